package tlsclose.shim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;

/**
 * What JSSE's public API tells about resumption. JSSE has no "session
 * reused" query; what it does keep (observed on 17.0.21, README.md):
 * a resumed client connection's session IS a session object its client
 * cache held before the connection (the TLS 1.2 session, or the TLS 1.3
 * session a NewSessionTicket made: NewSessionTicket
 * T13NewSessionTicketConsumer, "new SSLSessionImpl(session, new
 * SessionId(...))"), the same holds for a TLS 1.2 server resuming from its
 * session-ID cache, and a session resumed from a stateless ticket is a new
 * object restored from the ticket with the original creation time. A full
 * handshake makes a new session created at that moment.
 */
final class Resumption {
    private Resumption() {
    }

    /** The sessions a cache holds now. */
    static List<SSLSession> held(SSLSessionContext cache) {
        List<SSLSession> out = new ArrayList<>();
        for (byte[] id : Collections.list(cache.getIds())) {
            SSLSession s = cache.getSession(id);
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** The valid sessions of a client cache for the --connect address,
     * leaving out one session object (own). */
    static List<SSLSession> offerable(SSLSessionContext cache, Args a, SSLSession own) {
        List<SSLSession> out = new ArrayList<>();
        for (SSLSession s : held(cache)) {
            if (s != own && s.isValid() && a.connectHost.equals(s.getPeerHost())
                    && s.getPeerPort() == a.connectPort) {
                out.add(s);
            }
        }
        return out;
    }

    /** before: the previous connection's session; cached: the cache's
     * sessions before the new connection; now: its session. */
    static boolean reused(SSLSession before, List<SSLSession> cached, SSLSession now) {
        if (now == null) {
            return false;
        }
        for (SSLSession s : cached) {
            if (s == now) {
                return true;
            }
        }
        return before != null && before.getCreationTime() == now.getCreationTime();
    }
}
