//! `ringbook serve` (or any binary announcing its sockets on stdout) as a child process
//! for tests that run the binary: spawned with piped output, its ready lines read and
//! parsed into addresses, stopped with SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// A running `ringbook serve`, with the addresses its first stdout lines announced.
///
/// Its stdout stays open (and unread past the ready lines) until [`ServeProcess::stop`].
#[derive(Debug)]
pub struct ServeProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    addrs: Vec<SocketAddr>,
}

impl ServeProcess {
    /// Runs `binary serve ARGS` and reads one stdout line per entry of `ready`, each of
    /// which must be that prefix followed by a socket address (e.g. `"ouch listening on "`).
    ///
    /// # Panics
    /// If the process cannot start or a line is not the expected prefix and address.
    pub fn spawn(binary: impl AsRef<Path>, args: &[&str], ready: &[&str]) -> Self {
        let mut child = Command::new(binary.as_ref())
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.as_ref().display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let addrs = ready
            .iter()
            .map(|prefix| {
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                line.trim()
                    .strip_prefix(prefix)
                    .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
                    .parse()
                    .unwrap_or_else(|e| panic!("{line:?}: {e}"))
            })
            .collect();
        ServeProcess {
            child,
            _stdout: stdout,
            addrs,
        }
    }

    /// The address announced by the `i`-th ready line.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// Sends SIGTERM and waits: whether the process exited successfully, and its stderr.
    pub fn stop(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {}", self.child.id());
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .expect("stderr is piped")
            .read_to_string(&mut stderr)
            .unwrap();
        (self.child.wait().unwrap().success(), stderr)
    }
}

/// Runs `binary serve ARGS` to its exit, asserting that it exits with `code` and that its
/// stderr contains `needle` (the panic shows the status and stderr); returns the output.
///
/// # Panics
/// If the process cannot start, or exits otherwise.
pub fn serve_refused(binary: impl AsRef<Path>, args: &[&str], code: i32, needle: &str) -> Output {
    let out = Command::new(binary.as_ref())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.as_ref().display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(code) && stderr.contains(needle),
        "serve {args:?}: expected exit {code} and {needle:?} on stderr, got {}: {stderr}",
        out.status
    );
    out
}
