package tlsclose.shim;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JSSE setup of one cell: a fresh SSLContext (and so fresh client and
 * server session caches and session-ticket keys), the protocol version, the
 * cipher suite, the server's key and certificate from PEM files, and a
 * client that accepts any certificate (closure is under test, not PKI).
 *
 * <p>Only the parsed key and certificate may be shared between the cells of
 * one serve-mode process (the serve-mode draft, "Isolation"): they are
 * cached by path, size and modification time.
 */
final class Tls {
    private Tls() {
    }

    /** The suites the mock peer knows (docs/peer.md): OpenSSL name -> IANA name (JSSE's). */
    private static final Map<String, String> OPENSSL_NAMES = Map.of(
            "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    static String protocol(Args a) {
        return a.tls.equals("1.3") ? "TLSv1.3" : "TLSv1.2";
    }

    private static final Set<String> TLS13_SUITES = Set.of("TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    /** The JSSE name of --cipher, or null when this shim does not know it for this TLS
     * version (the suites the mock peer can take over, all of which JSSE 17 implements). */
    static String suite(Args a) {
        String name = OPENSSL_NAMES.getOrDefault(a.cipher, a.cipher);
        boolean known = a.tls.equals("1.3") ? TLS13_SUITES.contains(name)
                : OPENSSL_NAMES.containsValue(name);
        return known ? name : null;
    }

    static SSLContext context(Args a) throws ShimExit {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            KeyManager[] keys = a.server() ? Credentials.load(a.cert, a.key) : null;
            ctx.init(keys, new TrustManager[] {new AcceptAll()}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw ShimExit.failure("TLS context: " + e);
        }
    }

    /** Version, suite and role on one engine or socket's parameters. */
    static SSLParameters parameters(Args a, SSLParameters p) {
        p.setProtocols(new String[] {protocol(a)});
        if (a.cipher != null) {
            p.setCipherSuites(new String[] {suite(a)});
        }
        return p;
    }

    static SSLEngine engine(SSLContext ctx, Args a) {
        // The client's session cache is keyed by host and port: every
        // connection of a cell goes to the same --connect address, so a
        // later connection finds the session of an earlier one.
        SSLEngine e = ctx.createSSLEngine(a.connectHost, a.connectPort);
        e.setUseClientMode(!a.server());
        e.setSSLParameters(parameters(a, e.getSSLParameters()));
        return e;
    }

    /** The server's key manager from PEM files, parsed once per process. */
    static final class Credentials {
        private static String cachedFor;
        private static KeyManager[] cached;

        static synchronized KeyManager[] load(String certPath, String keyPath) throws ShimExit {
            String id = identity(certPath) + "|" + identity(keyPath);
            if (!id.equals(cachedFor)) {
                cached = parse(certPath, keyPath);
                cachedFor = id;
            }
            return cached;
        }

        private static String identity(String path) throws ShimExit {
            try {
                Path p = Path.of(path);
                return p.toAbsolutePath() + ":" + Files.size(p) + ":"
                        + Files.getLastModifiedTime(p).toMillis();
            } catch (IOException | RuntimeException e) {
                throw ShimExit.failure(path + ": " + e.getMessage());
            }
        }

        private static KeyManager[] parse(String certPath, String keyPath) throws ShimExit {
            try {
                Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                        .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(
                                Path.of(certPath))));
                if (chain.isEmpty()) {
                    throw ShimExit.failure(certPath + ": no certificate");
                }
                PrivateKey key = privateKey(keyPath);
                char[] password = "tlsclose".toCharArray();
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("sut", key, password, chain.toArray(new Certificate[0]));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
                kmf.init(ks, password);
                return kmf.getKeyManagers();
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                throw ShimExit.failure("credentials " + certPath + ", " + keyPath + ": " + e);
            }
        }

        /** A PEM "PRIVATE KEY" (PKCS#8), EC or RSA. */
        private static PrivateKey privateKey(String keyPath)
                throws IOException, GeneralSecurityException, ShimExit {
            String pem = Files.readString(Path.of(keyPath), StandardCharsets.US_ASCII);
            String begin = "-----BEGIN PRIVATE KEY-----";
            String end = "-----END PRIVATE KEY-----";
            int from = pem.indexOf(begin);
            int to = pem.indexOf(end);
            if (from < 0 || to < from) {
                throw ShimExit.failure(keyPath + ": no PEM \"PRIVATE KEY\" (PKCS#8) block");
            }
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
            PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
            try {
                return KeyFactory.getInstance("EC").generatePrivate(spec);
            } catch (InvalidKeySpecException notEc) {
                return KeyFactory.getInstance("RSA").generatePrivate(spec);
            }
        }
    }

    /** A client that never verifies the peer: the extended form, so that
     * JSSE adds no endpoint identification of its own. */
    static final class AcceptAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
