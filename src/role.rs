//! Roles: what a library goroutine is (an HTTP/1 server connection, an HTTP/2 client read
//! loop, a gRPC transport, a `database/sql` pool worker, the request that is writing this
//! very profile), recognised from the whole stack, never from the blocking site alone (the
//! site may be any frame of an all-library stack).
//!
//! A pure function of a stack's function names. Also tells whether a goroutine *holds a
//! connection* (one per open connection: the serving loop of a server connection, whether
//! idle or running a handler, the read loop of a client connection, a raw `net.Conn` read
//! under one of those loops (cmux)) and whether it *serves a request in flight* (a
//! handler on its stack): their numbers are the two loads growth is judged against (see
//! [`crate::compare::growth`]). A raw `net.Conn` read in the program's own code is
//! neither: it may be the leak itself (a connection nobody closes), and a leak must not
//! explain itself away.

use serde::Serialize;

/// What a library goroutine is. A closed set: the JSON contract names exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    HttpServerConn,
    Http2ServerConn,
    GrpcServerTransport,
    HttpClientConn,
    Http2ClientConn,
    GrpcClientTransport,
    CmuxConn,
    DbPool,
    /// The goroutines serving goroscope's own profile request: the one writing the
    /// profile, and its connection's background reader.
    ProfileRequest,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::HttpServerConn,
        Role::Http2ServerConn,
        Role::GrpcServerTransport,
        Role::HttpClientConn,
        Role::Http2ClientConn,
        Role::GrpcClientTransport,
        Role::CmuxConn,
        Role::DbPool,
        Role::ProfileRequest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::HttpServerConn => "http_server_conn",
            Role::Http2ServerConn => "http2_server_conn",
            Role::GrpcServerTransport => "grpc_server_transport",
            Role::HttpClientConn => "http_client_conn",
            Role::Http2ClientConn => "http2_client_conn",
            Role::GrpcClientTransport => "grpc_client_transport",
            Role::CmuxConn => "cmux_conn",
            Role::DbPool => "db_pool",
            Role::ProfileRequest => "profile_request",
        }
    }

    pub fn from_name(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    /// Connections, inbound or outbound: their count follows the clients, not the code.
    pub fn is_connection(self) -> bool {
        !matches!(self, Role::DbPool | Role::ProfileRequest)
    }

    /// Inbound (clients connect to the service) rather than outbound.
    pub fn is_inbound(self) -> bool {
        matches!(self, Role::HttpServerConn | Role::Http2ServerConn | Role::GrpcServerTransport | Role::CmuxConn)
    }

    /// What growth of this role means, for reasons and alerts.
    pub fn growth_text(self) -> &'static str {
        if self.is_inbound() {
            "open client connections growing"
        } else if self == Role::DbPool {
            "database pool goroutines growing"
        } else {
            "open connections to other services growing"
        }
    }

    /// The usual causes and fixes, for the hint.
    pub fn hint(self) -> &'static str {
        if self.is_inbound() {
            "clients are not closing their connections, or the server sets no ReadTimeout/IdleTimeout \
             (http.Server) or keepalive limits (gRPC): set them, or cap connections"
        } else if self == Role::DbPool {
            "a sql.DB opened per request and never closed: open one and share it"
        } else {
            "response bodies not closed (defer resp.Body.Close()), or a client (or gRPC ClientConn) \
             made per request: share one, and set IdleConnTimeout"
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the frames of one stack say about the goroutine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackRole {
    /// The role of a library goroutine: set when the frames from the leaf up to the role's
    /// frame are all library (or connection wrappers), so a handler blocked in the
    /// program's own code under `(*conn).serve` has none.
    pub role: Option<Role>,
    /// The goroutine holds a connection: one per open connection (see the module docs).
    pub connection: bool,
    /// Writes a goroutine profile (the profile request itself, or the program's own dump).
    pub profile_writer: bool,
    /// Is an HTTP/1 connection's background reader (one per request in flight, the profile
    /// request's included).
    pub background_reader: bool,
    /// Serves a request in flight: a handler is on the stack (`net/http.serverHandler.ServeHTTP`
    /// for HTTP/1 and net/http's HTTP/2, HTTP/2's `runHandler`, gRPC's `processUnaryRPC`).
    /// One per request, whatever the handler waits on; the second load proxy (see
    /// [`crate::compare::growth`]). gRPC streams (`processStreamingRPC`) are not: a stream
    /// may live for hours (a watch), and streams a client forgets are a leak to report.
    pub request: bool,
}

/// The role and the connection mark of a stack, given its function names leaf first.
pub fn of_stack<'a>(functions: impl IntoIterator<Item = &'a str>) -> StackRole {
    fold(functions.into_iter().map(frame_facts))
}

/// What one function says about the goroutine whose stack holds it. A stack's role is
/// folded from these ([`fold`]), so each distinct frame is read once per snapshot
/// ([`RoleCache`]), not once per stack it is on (issue 14: a dump of 18,000 stacks over
/// 20,000 call sites spent an eighth of `show` here).
#[derive(Debug, Clone, Copy, Default)]
struct FrameFacts {
    profile_writer: bool,
    request: bool,
    role: Option<(Role, bool)>,
    background_reader: bool,
    /// Neither a role's frame, library code nor a connection wrapper: the program's own.
    own: bool,
}

fn frame_facts(f: &str) -> FrameFacts {
    let f = devendor(f);
    let role = frame_role(f);
    FrameFacts {
        profile_writer: is_profile_writer(f),
        request: is_request_frame(f),
        role,
        background_reader: role.is_some() && f == "net/http.(*connReader).backgroundRead",
        own: role.is_none() && !is_library(f) && !is_io_wrapper(f),
    }
}

/// The [`StackRole`] of a stack's frames, leaf first.
fn fold(frames: impl IntoIterator<Item = FrameFacts>) -> StackRole {
    let mut out = StackRole::default();
    // Still in the leading part of the stack made of library frames only.
    let mut leading = true;
    for f in frames {
        out.profile_writer |= f.profile_writer;
        out.request |= f.request;
        if let Some((role, primary)) = f.role {
            out.connection |= primary;
            if leading && out.role.is_none() {
                out.role = Some(role);
            }
            out.background_reader |= f.background_reader;
        }
        if leading && f.own {
            leading = false;
        }
    }
    if out.profile_writer {
        out.role = Some(Role::ProfileRequest);
        out.connection = false;
        out.request = false;
    }
    out
}

/// Vendored copies (`go.etcd.io/etcd/vendor/google.golang.org/grpc/...`) read as the
/// originals.
fn devendor(f: &str) -> &str {
    // One vectorised forward searcher for all frames, and the last match looked for only in
    // names that have one: `str::rfind` builds a searcher per call (~700 instructions) and
    // a reverse one does not vectorise (~540); 20k distinct frames in the wide 100k dump.
    static VENDOR: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"/vendor/"));
    if VENDOR.find(f.as_bytes()).is_none() {
        return f;
    }
    match f.rfind("/vendor/") {
        Some(i) => &f[i + "/vendor/".len()..],
        None => f,
    }
}

/// The role a frame marks, and whether it is the one goroutine per connection.
fn frame_role(f: &str) -> Option<(Role, bool)> {
    const GRPC_T: &str = "google.golang.org/grpc/internal/transport.";
    Some(match f {
        // An HTTP/1 connection: idle (reading the next request) or running a handler.
        "net/http.(*conn).serve" => (Role::HttpServerConn, true),
        // One per HTTP/1 request in flight, beside its connection's goroutine.
        "net/http.(*connReader).backgroundRead" => (Role::HttpServerConn, false),
        "net/http.(*persistConn).readLoop" => (Role::HttpClientConn, true),
        "net/http.(*persistConn).writeLoop" => (Role::HttpClientConn, false),
        "github.com/soheilhy/cmux.(*cMux).serve" => (Role::CmuxConn, true),
        "database/sql.(*DB).connectionOpener"
        | "database/sql.(*DB).connectionResetter"
        | "database/sql.(*DB).connectionCleaner" => (Role::DbPool, false),
        // gRPC: per connection, the server's stream reader (under serveStreams) and the
        // client's reader; keepalive and the loopy writer beside them. Stream handlers
        // (`serveStreams.func1…`, `handleStream`) are requests, not connections.
        "google.golang.org/grpc.(*Server).serveStreams" | "google.golang.org/grpc.(*Server).handleRawConn" => {
            (Role::GrpcServerTransport, true)
        }
        "google.golang.org/grpc.(*addrConn).resetTransport"
        | "google.golang.org/grpc.(*ccBalancerWrapper).watcher"
        | "google.golang.org/grpc.(*ccResolverWrapper).watcher"
        | "google.golang.org/grpc.(*addrConn).connect"
        | "google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run" => (Role::GrpcClientTransport, false),
        _ => {
            if let Some(m) = http2_method(f) {
                return match m {
                    ("serverConn", "serve") => Some((Role::Http2ServerConn, true)),
                    ("serverConn", "readFrames") => Some((Role::Http2ServerConn, false)),
                    ("clientConnReadLoop", "run") => Some((Role::Http2ClientConn, true)),
                    ("ClientConn", "readLoop") => Some((Role::Http2ClientConn, false)),
                    _ => None,
                };
            }
            let rest = f.strip_prefix(GRPC_T)?;
            if rest.starts_with("(*http2Client).reader") {
                (Role::GrpcClientTransport, true)
            } else if rest.starts_with("(*http2Client).") || rest.starts_with("newHTTP2Client.func") {
                (Role::GrpcClientTransport, false)
            } else if rest.starts_with("(*http2Server).") || rest.starts_with("NewServerTransport.func") {
                (Role::GrpcServerTransport, false)
            } else if rest.starts_with("(*loopyWriter).run") {
                // Server or client: the frames further out (the `go` statement's function)
                // decide when printed; a server is the likelier reading of a profile.
                (Role::GrpcServerTransport, false)
            } else {
                return None;
            }
        }
    })
}

/// An HTTP/2 frame as `(type, method)` under any of the implementation's three names: x/net's
/// `golang.org/x/net/http2.(*serverConn).serve`, the copy bundled into net/http up to Go 1.26
/// `net/http.(*http2serverConn).serve`, and Go 1.27's `net/http/internal/http2.(*serverConn).serve`.
fn http2_method(f: &str) -> Option<(&str, &str)> {
    let rest =
        match f.strip_prefix("golang.org/x/net/http2.(*").or_else(|| f.strip_prefix("net/http/internal/http2.(*")) {
            Some(r) => r,
            None => f.strip_prefix("net/http.(*http2")?,
        };
    rest.split_once(").")
}

/// A frame that only a goroutine serving a request in flight has (see [`StackRole::request`]).
fn is_request_frame(f: &str) -> bool {
    f == "net/http.serverHandler.ServeHTTP"
        || f == "google.golang.org/grpc.(*Server).processUnaryRPC"
        || http2_method(f) == Some(("serverConn", "runHandler"))
}

fn is_profile_writer(f: &str) -> bool {
    f.starts_with("net/http/pprof.")
        || matches!(
            f,
            "runtime/pprof.writeGoroutine"
                | "runtime/pprof.writeGoroutineStacks"
                | "runtime/pprof.writeRuntimeProfile"
                | "runtime/pprof.(*Profile).WriteTo"
        )
}

/// Library code a connection's goroutine runs through: the standard library and the
/// connection libraries recognised here.
fn is_library(f: &str) -> bool {
    crate::classify::is_std(f)
        || f.starts_with("golang.org/x/net/")
        || f.starts_with("google.golang.org/grpc")
        || f.starts_with("google.golang.org/protobuf")
        || f.starts_with("github.com/golang/protobuf")
        || f.starts_with("github.com/soheilhy/cmux")
}

/// A program's wrapper of a connection (`(*limitListenerConn).Read`, a metered conn):
/// it does not make a connection's goroutine the program's own.
fn is_io_wrapper(f: &str) -> bool {
    let method = f.rsplit('.').next().unwrap_or(f);
    matches!(method, "Read" | "Write" | "ReadFrame" | "Peek" | "Flush" | "fill" | "ReadByte")
}

/// Roles per stack of one snapshot, computed once per stack from facts read once per frame.
/// Both are kept packed in two bytes (0: not worked out yet): a dump whose every goroutine
/// is its own stack and frame pays this per goroutine (issue 15: 11 bytes, now 4).
#[derive(Default)]
pub struct RoleCache {
    known: Vec<u16>,
    frames: Vec<u16>,
}

/// Bit 0: worked out; bits 1–4: the role (0: none, else its index in [`Role::ALL`] + 1).
fn pack_role(role: Option<Role>) -> u16 {
    1 | role.map_or(0, |r| Role::ALL.iter().position(|&x| x == r).expect("a role") as u16 + 1) << 1
}

fn unpack_role(bits: u16) -> Option<Role> {
    match (bits >> 1) & 0xf {
        0 => None,
        i => Some(Role::ALL[i as usize - 1]),
    }
}

/// The flag bits after [`pack_role`]'s, shared by both packings.
const FLAG5: u16 = 1 << 5; // a stack's `connection`, a frame's role being primary
const PROFILE_WRITER: u16 = 1 << 6;
const BACKGROUND_READER: u16 = 1 << 7;
const REQUEST: u16 = 1 << 8;
const OWN: u16 = 1 << 9; // frames only

/// `bit` if `on`, else 0.
fn flag(on: bool, bit: u16) -> u16 {
    if on {
        bit
    } else {
        0
    }
}

impl StackRole {
    fn pack(self) -> u16 {
        pack_role(self.role)
            | flag(self.connection, FLAG5)
            | flag(self.profile_writer, PROFILE_WRITER)
            | flag(self.background_reader, BACKGROUND_READER)
            | flag(self.request, REQUEST)
    }
    fn unpack(bits: u16) -> StackRole {
        StackRole {
            role: unpack_role(bits),
            connection: bits & FLAG5 != 0,
            profile_writer: bits & PROFILE_WRITER != 0,
            background_reader: bits & BACKGROUND_READER != 0,
            request: bits & REQUEST != 0,
        }
    }
}

impl FrameFacts {
    fn pack(self) -> u16 {
        pack_role(self.role.map(|(r, _)| r))
            | flag(self.role.is_some_and(|(_, primary)| primary), FLAG5)
            | flag(self.profile_writer, PROFILE_WRITER)
            | flag(self.background_reader, BACKGROUND_READER)
            | flag(self.request, REQUEST)
            | flag(self.own, OWN)
    }
    fn unpack(bits: u16) -> FrameFacts {
        FrameFacts {
            role: unpack_role(bits).map(|r| (r, bits & FLAG5 != 0)),
            profile_writer: bits & PROFILE_WRITER != 0,
            background_reader: bits & BACKGROUND_READER != 0,
            request: bits & REQUEST != 0,
            own: bits & OWN != 0,
        }
    }
}

impl RoleCache {
    pub fn get(&mut self, t: &crate::model::Tables, stack: crate::model::StackId) -> StackRole {
        let i = stack as usize;
        if i >= self.known.len() {
            self.known.resize(t.stacks.len().max(i + 1), 0);
        }
        if self.known[i] != 0 {
            return StackRole::unpack(self.known[i]);
        }
        let frames = &mut self.frames;
        let r = fold(t.stacks.get(stack).iter().map(|&f| {
            let j = f as usize;
            if j >= frames.len() {
                frames.resize(t.frames.len().max(j + 1), 0);
            }
            if frames[j] == 0 {
                frames[j] = frame_facts(t.function(f)).pack();
            }
            FrameFacts::unpack(frames[j])
        }));
        self.known[i] = r.pack();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(stack: &[&str]) -> StackRole {
        of_stack(stack.iter().copied())
    }

    /// What the cache keeps packed reads back the same, for every role and mark.
    #[test]
    fn packed_facts_read_back_the_same() {
        let roles = std::iter::once(None).chain(Role::ALL.iter().copied().map(Some));
        for role in roles {
            for m in 0..32u8 {
                let b = |k: u8| m & 1 << k != 0;
                let r =
                    StackRole { role, connection: b(0), profile_writer: b(1), background_reader: b(2), request: b(3) };
                assert_eq!(StackRole::unpack(r.pack()), r);
                assert_ne!(r.pack(), 0, "0 is kept for not worked out yet");
                let f = FrameFacts {
                    profile_writer: b(0),
                    request: b(1),
                    role: role.map(|r| (r, b(2))),
                    background_reader: b(3),
                    own: b(4),
                };
                let back = FrameFacts::unpack(f.pack());
                assert_eq!(
                    (back.profile_writer, back.request, back.role, back.background_reader, back.own),
                    (f.profile_writer, f.request, f.role, f.background_reader, f.own)
                );
            }
        }
    }

    #[test]
    fn idle_http1_connection_and_handler_in_flight() {
        let idle = role(&[
            "runtime.gopark",
            "internal/poll.runtime_pollWait",
            "internal/poll.(*FD).Read",
            "net.(*netFD).Read",
            "net.(*conn).Read",
            "net/http.(*connReader).Read",
            "bufio.(*Reader).fill",
            "bufio.(*Reader).Peek",
            "net/http.(*conn).serve",
        ]);
        assert_eq!(idle, StackRole { role: Some(Role::HttpServerConn), connection: true, ..Default::default() });
        let handler = role(&[
            "runtime.gopark",
            "runtime.selectgo",
            "main.search",
            "net/http.HandlerFunc.ServeHTTP",
            "net/http.serverHandler.ServeHTTP",
            "net/http.(*conn).serve",
        ]);
        assert_eq!(handler.role, None, "a handler in flight is the program's");
        assert!(handler.connection, "but it holds a connection");
        assert!(handler.request && !idle.request, "and serves a request in flight");
        let bg = role(&["runtime.gopark", "net.(*conn).Read", "net/http.(*connReader).backgroundRead"]);
        assert_eq!((bg.role, bg.connection, bg.background_reader), (Some(Role::HttpServerConn), false, true));
    }

    #[test]
    fn profile_request_wins() {
        let w = role(&[
            "runtime.goroutineProfileWithLabels",
            "runtime/pprof.writeRuntimeProfile",
            "runtime/pprof.writeGoroutine",
            "runtime/pprof.(*Profile).WriteTo",
            "net/http/pprof.handler.ServeHTTP",
            "net/http.(*conn).serve",
        ]);
        assert_eq!(
            (w.role, w.connection, w.profile_writer, w.request),
            (Some(Role::ProfileRequest), false, true, false)
        );
    }

    #[test]
    fn grpc_vendored_and_wrapped() {
        let r = role(&[
            "runtime.gopark",
            "net.(*conn).Read",
            "go.etcd.io/etcd/pkg/transport.(*limitListenerConn).Read",
            "bufio.(*Reader).Read",
            "go.etcd.io/etcd/vendor/google.golang.org/grpc/internal/transport.(*http2Server).HandleStreams",
            "go.etcd.io/etcd/vendor/google.golang.org/grpc.(*Server).serveStreams",
        ]);
        assert_eq!(r.role, Some(Role::GrpcServerTransport));
        assert!(r.connection);
        let stream = role(&[
            "runtime.selectgo",
            "google.golang.org/grpc/internal/transport.(*recvBufferReader).read",
            "google.golang.org/grpc.(*serverStream).RecvMsg",
            "go.etcd.io/etcd/etcdserver/api/v3rpc.(*serverWatchStream).recvLoop",
        ]);
        assert_eq!(stream, StackRole::default(), "a stream is a request, not a connection");
    }

    /// HTTP/2 by its three names: x/net's, the copy in net/http up to Go 1.26, and Go 1.27's
    /// `net/http/internal/http2`; a handler goroutine of each is a request in flight.
    #[test]
    fn http2_by_every_name() {
        for pkg in ["golang.org/x/net/http2.(*", "net/http.(*http2", "net/http/internal/http2.(*"] {
            let f = |m: &str| format!("{pkg}{m}");
            let (serve, read) = (f("serverConn).serve"), f("serverConn).readFrames"));
            let conn = role(&["runtime.gopark", "runtime.selectgo", &serve]);
            assert_eq!((conn.role, conn.connection), (Some(Role::Http2ServerConn), true), "{pkg}");
            let reader = role(&["runtime.gopark", "net.(*conn).Read", &f("Framer).ReadFrame"), &read]);
            assert_eq!((reader.role, reader.connection), (Some(Role::Http2ServerConn), false), "{pkg}");
            let (run, read_loop) = (f("clientConnReadLoop).run"), f("ClientConn).readLoop"));
            let client = role(&["runtime.gopark", "net.(*conn).Read", &run, &read_loop]);
            assert_eq!((client.role, client.connection), (Some(Role::Http2ClientConn), true), "{pkg}");
            let handler = role(&["runtime.gopark", "time.Sleep", "main.handle", &f("serverConn).runHandler")]);
            assert_eq!((handler.role, handler.connection, handler.request), (None, false, true), "{pkg}");
        }
        assert_eq!(http2_method("net/http.(*conn).serve"), None);
    }

    #[test]
    fn grpc_unary_handlers_are_requests_and_streams_are_not() {
        let unary = role(&[
            "runtime.gopark",
            "main.(*kv).Get",
            "google.golang.org/grpc.(*Server).processUnaryRPC",
            "google.golang.org/grpc.(*Server).handleStream",
        ]);
        assert!(unary.request && !unary.connection);
        let stream = role(&[
            "runtime.selectgo",
            "go.etcd.io/etcd/etcdserver/api/v3rpc.(*watchServer).Watch",
            "go.etcd.io/etcd/vendor/google.golang.org/grpc.(*Server).processStreamingRPC",
        ]);
        assert!(!stream.request, "a watch may stay open for hours: streams a client forgets are a leak");
    }

    #[test]
    fn raw_conn_read_in_own_code_is_the_programs() {
        let r = role(&["runtime.gopark", "net.(*conn).Read", "bufio.(*Reader).ReadString", "main.readUpstream"]);
        assert_eq!((r.role, r.connection), (None, false), "it may be the leak: it must not be the load");
        assert_eq!(Role::from_name("db_pool"), Some(Role::DbPool));
    }
}
