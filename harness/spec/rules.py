"""The RFC rules an `rfc`-level check can cite, each with its sentence, its
key word and the severity of breaking it (docs/case-format.md, "Levels").

A rule is one requirement of RFC 8446 (TLS 1.3), RFC 5246 (TLS 1.2) or
RFC 9112 (HTTP/1.1 over TLS), for the TLS versions where that document says
it; a rule of one version is never applied to the other. The quote is the
document's own sentence (or the part of it that carries the requirement);
`key` is the requirement's key word as the document writes it: MUST, SHALL
and SHOULD in capitals are RFC 2119 words (SHALL means MUST), a lower-case
"must"/"required"/"always" is the document's prose requirement. `severity` says how bad a violation is:

- security: data loss or injection goes unnoticed — truncation (a FIN or a
  reset) reported as a clean close, data after a closure alert delivered, a
  session resumable after a fatal alert;
- interop: the peer cannot tell how the connection ended or is refused — a
  required alert missing or of the wrong kind, records after one's own
  close_notify, malformed alerts accepted, legal alerts refused;
- hygiene: a SHOULD not followed.

`statements` are the catalogue ids (R1-R12, harness.spec.catalogue) a rule
belongs to, for traceability; an RFC 9112 rule names the TLS closure
statement it rests on. The RFC 9112 rules are checked by the scenarios of
`tlsclose endpoints` (docs/endpoints.md), never by a case. Contract: RULES maps id -> Rule; nothing here
reads files or changes.
"""
from __future__ import annotations

import dataclasses

SEVERITIES = ("security", "interop", "hygiene")
KEYS = ("MUST", "MUST NOT", "SHALL", "SHOULD", "SHOULD NOT", "must", "required", "always")


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    tls: tuple[str, ...]          # the TLS versions the rule is a rule of
    ref: str                      # "RFC 8446 §6.1"
    key: str                      # the requirement's key word, as written
    severity: str
    quote: str                    # the document's sentence
    statements: tuple[str, ...]   # R ids of the catalogue

    def cite(self) -> str:
        return f"{self.ref}, {self.key}"


def _rule(id, tls, ref, key, severity, quote, statements) -> tuple[str, Rule]:
    assert severity in SEVERITIES and key in KEYS, id
    return id, Rule(id, tls, ref, key, severity, " ".join(quote.split()), statements)


BOTH = ("1.2", "1.3")
TLS12 = ("1.2",)
TLS13 = ("1.3",)

RULES: dict[str, Rule] = dict([
    # -- closure: what a party sends ------------------------------------------------------
    _rule("close-notify-before-closing-write", BOTH, "RFC 8446 §6.1, RFC 5246 §7.2.1", "MUST",
          "interop", """Each party MUST send a "close_notify" alert before closing its write side
          of the connection, unless it has already sent some error alert. (TLS 1.2: Unless some
          other fatal alert has been transmitted, each party is required to send a close_notify
          alert before closing the write side of the connection.)""", ("R1",)),
    _rule("nothing-after-own-close-notify", BOTH, "RFC 8446 §6.1, RFC 5246 §7.2.1", "must",
          "interop", """close_notify: This alert notifies the recipient that the sender will not
          send any more messages on this connection.""", ("R1", "R3")),
    # Under R1: a fatal alert is what excuses a missing close_notify, and this one may not be fatal.
    _rule("tls12-no-renegotiation-is-a-warning", TLS12, "RFC 5246 §7.2.2", "always",
          "interop", """no_renegotiation: Sent by the client in response to a hello request or
          by the server in response to a client hello after initial handshaking. [...] This
          message is always a warning.""", ("R1",)),
    _rule("tls12-answer-close-notify-at-once", TLS12, "RFC 5246 §7.2.1", "MUST", "interop",
          """The other party MUST respond with a close_notify alert of its own and close down
          the connection immediately, discarding any pending writes.""", ("R5",)),
    _rule("tls13-user-canceled-followed-by-close-notify", TLS13, "RFC 8446 §6.1", "SHOULD",
          "hygiene", """[user_canceled] This alert SHOULD be followed by a "close_notify".""",
          ("R4",)),
    _rule("tls13-alert-alone-in-its-record", TLS13, "RFC 8446 §5.1", "MUST NOT", "interop",
          """Alert messages MUST NOT be fragmented across records, and multiple alert messages
          MUST NOT be coalesced into a single TLSPlaintext record.""", ("R8",)),
    _rule("fatal-alert-then-close", BOTH, "RFC 8446 §6.2, RFC 5246 §7.2.2", "MUST",
          "interop", """Upon transmission or receipt of a fatal alert message, both parties MUST
          immediately close the connection. (TLS 1.2, without the key word: Upon transmission or
          receipt of a fatal alert message, both parties immediately close the connection.)""",
          ("R10",)),
    _rule("bad-record-mac-on-decrypt-failure", BOTH, "RFC 8446 §5.2, RFC 5246 §6.2.3.3", "MUST",
          "interop", """If the decryption fails, the receiver MUST terminate the connection with a
          "bad_record_mac" alert. (TLS 1.2, AEAD ciphers: If the decryption fails, a fatal
          bad_record_mac alert MUST be generated.)""", ("R10",)),
    _rule("tls13-new-key-after-keyupdate", TLS13, "RFC 8446 §4.6.3", "SHALL", "interop",
          """After sending a KeyUpdate message, the sender SHALL send all its traffic using the
          next generation of keys, computed as described in Section 7.2.""", ("R11",)),
    # -- closure: what a party makes of what it receives -----------------------------------
    _rule("tls13-receiver-updates-keys", TLS13, "RFC 8446 §4.6.3", "MUST", "interop",
          """Upon receiving a KeyUpdate, the receiver MUST update its receiving keys.""",
          ("R11",)),
    _rule("data-after-closure-alert-ignored", BOTH, "RFC 8446 §6.1, RFC 5246 §7.2.1", "MUST",
          "security", """Any data received after a closure alert has been received MUST be
          ignored. (TLS 1.2: Any data received after a closure alert is ignored.)""",
          ("R2",)),
    # The same sentence, broken the other way: ignoring the data also means not refusing it
    # with a fatal alert, which is a legal input refused (interop), not data delivered.
    _rule("data-after-closure-alert-not-refused", BOTH, "RFC 8446 §6.1, RFC 5246 §7.2.1", "MUST",
          "interop", """Any data received after a closure alert has been received MUST be
          ignored. (TLS 1.2: Any data received after a closure alert is ignored.)""",
          ("R2",)),
    _rule("truncation-is-not-a-clean-close", BOTH, "RFC 8446 §6.1, RFC 5246 §7.2.1", "must",
          "security", """The client and the server must share knowledge that the connection is
          ending in order to avoid a truncation attack. (TLS 1.3: If a transport-level close is
          received prior to a "close_notify", the receiver cannot know that all the data that
          was sent has been received.)""", ("R7",)),
    _rule("tls13-close-notify-is-end-of-data", TLS13, "RFC 8446 §6", "SHOULD", "hygiene",
          """The "close_notify" alert is used to indicate orderly closure of one direction of
          the connection. Upon receiving such an alert, the TLS implementation SHOULD indicate
          end-of-data to the application.""", ("R3",)),
    _rule("tls13-alert-level-ignored", TLS13, "RFC 8446 §6", "must", "interop",
          """In TLS 1.3, the severity is implicit in the type of alert being sent, and the
          "level" field can safely be ignored.""", ("R9",)),
    _rule("tls12-refused-warning-alert-answered-with-fatal-alert", TLS12, "RFC 5246 §7.2.2",
          "SHOULD", "hygiene", """If an alert with a level of warning is sent and received,
          generally the connection can continue normally. If the receiving party decides not to
          proceed with the connection (...), it SHOULD send a fatal alert to terminate the
          connection.""", ("R4",)),
    _rule("tls12-fragmented-alert-is-legal", TLS12, "RFC 5246 §6.2.1", "must", "interop",
          """Client message boundaries are not preserved in the record layer (i.e., multiple
          client messages of the same ContentType MAY be coalesced into a single TLSPlaintext
          record, or a single message MAY be fragmented across several records).""",
          ("R8",)),
    _rule("tls12-interleaved-records-are-legal", TLS12, "RFC 5246 §6.2.1", "must", "interop",
          """Data of different TLS record layer content types MAY be interleaved.""",
          ("R8",)),
    _rule("tls13-unparsable-alert-is-decode-error", TLS13, "RFC 8446 §6", "MUST", "interop",
          """Peers which receive a message which cannot be parsed according to the syntax (e.g.,
          have a length extending beyond the message boundary or contain an out-of-range length)
          MUST terminate the connection with a "decode_error" alert. (§6.2: ... MUST send alert
          X if it sends any alert.)""", ("R12",)),
    _rule("tls13-unknown-alert-is-an-error", TLS13, "RFC 8446 §6", "MUST", "interop",
          """Unknown Alert types MUST be treated as error alerts.""", ("R12",)),
    _rule("tls13-error-alert-ends-data", TLS13, "RFC 8446 §6", "MUST NOT", "security",
          """Upon receiving an error alert, the TLS implementation SHOULD indicate an error to
          the application and MUST NOT allow any further data to be sent or received on the
          connection.""", ("R10",)),
    # -- sessions ----------------------------------------------------------------------------
    _rule("tls12-no-resumption-after-fatal-alert", TLS12, "RFC 5246 §7.2.2", "MUST NOT",
          "security", """Servers and clients MUST forget any session-identifiers, keys, and
          secrets associated with a failed connection. Thus, any connection terminated with a
          fatal alert MUST NOT be resumed.""", ("R10",)),
    _rule("tls13-ticket-discarded-after-fatal-alert", TLS13, "RFC 8446 §6", "SHOULD",
          "hygiene", """Servers and clients MUST forget the secret values and keys established
          in failed connections, with the exception of the PSKs associated with session
          tickets, which SHOULD be discarded if possible.""", ("R10",)),
    # -- transport reuse ---------------------------------------------------------------------
    _rule("end-of-data-after-close-notify-before-transport-reuse", BOTH,
          "RFC 8446 §6.1, RFC 5246 §7.2.1", "MUST", "security",
          """If the application protocol using TLS provides that any data may be carried over
          the underlying transport after the TLS connection is closed, the TLS implementation
          MUST receive a "close_notify" alert before indicating end-of-data to the application
          layer.""", ("R6",)),
    # -- HTTP/1.1 over TLS (RFC 9112), for the real endpoints of `tlsclose endpoints` ------------
    # The statements are the TLS closure ids the HTTP rule rests on: an HTTP message cut by a
    # transport close is R7's truncation seen one layer up.
    _rule("http-incomplete-response-not-complete", BOTH, "RFC 9112 §8", "MUST", "security",
          """A client that receives an incomplete response message, which can occur when a
          connection is closed prematurely or when decoding a supposedly chunked transfer coding
          fails, MUST record the message as incomplete. (...) A message body that uses the
          chunked transfer coding is incomplete if the zero-sized chunk that terminates the
          encoding has not been received. A message that uses a valid Content-Length is
          incomplete if the size of the message body received (in octets) is less than the value
          given by Content-Length.""", ("R7",)),
    _rule("http-close-delimited-needs-closure-alert", BOTH, "RFC 9112 §9.8, §8", "MUST",
          "security", """A response that has neither chunked transfer coding nor Content-Length
          is complete only if a valid closure alert has been received. Treating an incomplete
          message as complete could expose implementations to attack. (§8: a client that
          receives an incomplete response message (...) MUST record the message as
          incomplete.)""", ("R7",)),
    _rule("http-framed-response-complete-after-incomplete-close", BOTH, "RFC 9112 §9.8",
          "SHOULD", "hygiene", """When encountering an incomplete close, a client SHOULD treat
          as completed all requests for which it has received either as much data as specified
          in the Content-Length header field or the terminal zero-length chunk (when
          Transfer-Encoding of chunked is used).""", ("R7",)),
    _rule("http-incomplete-request-not-complete", BOTH, "RFC 9112 §6.3, §8", "MUST", "security",
          """If the sender closes the connection or the recipient times out before the indicated
          number of octets are received, the recipient MUST consider the message to be
          incomplete and close the connection. (§8: A message body that uses the chunked
          transfer coding is incomplete if the zero-sized chunk that terminates the encoding has
          not been received.)""", ("R7",)),
    _rule("http-client-sends-closure-alert", BOTH, "RFC 9112 §9.8", "MUST", "interop",
          """Clients MUST send a closure alert before closing the connection.""", ("R1",)),
    _rule("http-server-initiates-closure-alerts", BOTH, "RFC 9112 §9.8", "MUST", "interop",
          """Servers MUST attempt to initiate an exchange of closure alerts with the client
          before closing the connection.""", ("R1",)),
])


def rule_ids_for(statement: str) -> list[str]:
    return [r.id for r in RULES.values() if statement in r.statements]
