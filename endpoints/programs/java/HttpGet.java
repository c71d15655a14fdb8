// GET a URL with java.net.http.HttpClient (JDK 11+) as an application does
// (send with BodyHandlers.ofByteArray) and save the body: exit 0 when send()
// returned a response, 1 with the exception on standard error otherwise.
// Usage: java -jar tlsclose-httpget.jar URL OUTPUT-FILE; --version prints the
// runtime's version. The certificate is not verified (a trust-all manager and
// jdk.internal.httpclient.disableHostnameVerification): the endpoint table is
// about how connections end, not about trust.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

public final class HttpGet {
    private HttpGet() {}

    private static SSLContext trustAll() throws Exception {
        TrustManager[] all = {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String type) {}
            public void checkServerTrusted(X509Certificate[] chain, String type) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }};
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, all, new SecureRandom());
        return ctx;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--version")) {
            System.out.println("Java " + System.getProperty("java.runtime.version") + " ("
                + System.getProperty("java.vm.name") + "), java.net.http.HttpClient");
            return;
        }
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        try {
            HttpClient client = HttpClient.newBuilder().sslContext(trustAll())
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create(args[0]))
                .timeout(Duration.ofSeconds(10)).GET().build();
            HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            Files.write(Path.of(args[1]), response.body());
        } catch (Exception e) {
            System.err.println("error: " + e.getClass().getName() + ": " + e.getMessage());
            System.exit(1);
        }
        System.exit(0);
    }
}
