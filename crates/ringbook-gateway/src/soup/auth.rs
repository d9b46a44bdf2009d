//! Checking SoupBinTCP logins (section 2.3.1: Username and Password).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use ringbook_wire::soup::login::{PASSWORD_LEN, USERNAME_LEN};
use thiserror::Error;

/// Who may log in.
#[derive(Clone, Debug)]
pub enum Users {
    /// Any username and password (for loopback use only).
    AnyLogin,
    /// Only these usernames, each with its password.
    List(HashMap<String, String>),
}

/// A users file that cannot be used.
#[derive(Debug, Error)]
pub enum UsersError {
    /// The file could not be read.
    #[error("users file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A line that is not `username,password` with fields that fit SoupBinTCP's.
    #[error("users file {path} line {line}: {problem}")]
    Malformed {
        /// The file.
        path: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        problem: UsersProblem,
    },
}

/// What is wrong with a users file line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UsersProblem {
    /// Not two comma-separated fields.
    #[error("expected username,password")]
    NotTwoFields,
    /// A username empty, longer than 6 bytes, or not printable ASCII without spaces.
    #[error("the username must be 1 to {USERNAME_LEN} printable ASCII characters without spaces")]
    BadUsername,
    /// A password longer than 10 bytes or not printable ASCII without spaces.
    #[error(
        "the password must be at most {PASSWORD_LEN} printable ASCII characters without spaces"
    )]
    BadPassword,
    /// The username is listed twice.
    #[error("the username is listed twice")]
    Duplicate,
}

fn field_ok(text: &str, max: usize) -> bool {
    text.len() <= max && text.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

impl Users {
    /// Reads a `username,password` file (a `username,password` header line is
    /// skipped; blank lines and lines starting with `#` are ignored).
    ///
    /// # Errors
    ///
    /// [`UsersError`] naming the file and line.
    pub fn from_file(path: &Path) -> Result<Users, UsersError> {
        let name = path.display().to_string();
        let text = fs::read_to_string(path).map_err(|source| UsersError::Io {
            path: name.clone(),
            source,
        })?;
        let mut users = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line == "username,password") {
                continue;
            }
            let bad = |problem| UsersError::Malformed {
                path: name.clone(),
                line: i + 1,
                problem,
            };
            let Some((user, password)) = line.split_once(',') else {
                return Err(bad(UsersProblem::NotTwoFields));
            };
            if password.contains(',') {
                return Err(bad(UsersProblem::NotTwoFields));
            }
            if user.is_empty() || !field_ok(user, USERNAME_LEN) {
                return Err(bad(UsersProblem::BadUsername));
            }
            if !field_ok(password, PASSWORD_LEN) {
                return Err(bad(UsersProblem::BadPassword));
            }
            if users
                .insert(user.to_string(), password.to_string())
                .is_some()
            {
                return Err(bad(UsersProblem::Duplicate));
            }
        }
        Ok(Users::List(users))
    }

    /// Whether `username` may log in with `password` (both without padding).
    #[must_use]
    pub fn check(&self, username: &[u8], password: &[u8]) -> bool {
        match self {
            Users::AnyLogin => !username.is_empty(),
            Users::List(users) => std::str::from_utf8(username)
                .ok()
                .and_then(|u| users.get(u))
                .is_some_and(|p| p.as_bytes() == password),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_file_is_read_and_checked_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("rb-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users.csv");
        std::fs::write(&path, "username,password\nalice,pw1\n\n# comment\nbob,\n").unwrap();
        let users = Users::from_file(&path).unwrap();
        assert!(users.check(b"alice", b"pw1"));
        assert!(!users.check(b"alice", b"pw2"));
        assert!(users.check(b"bob", b""));
        assert!(!users.check(b"carol", b""));
        std::fs::write(&path, "alice,pw\ntoolongname,x\n").unwrap();
        assert!(matches!(
            Users::from_file(&path),
            Err(UsersError::Malformed {
                line: 2,
                problem: UsersProblem::BadUsername,
                ..
            })
        ));
        std::fs::write(&path, "alice\n").unwrap();
        assert!(matches!(
            Users::from_file(&path),
            Err(UsersError::Malformed {
                line: 1,
                problem: UsersProblem::NotTwoFields,
                ..
            })
        ));
        std::fs::write(&path, "a,1\na,2\n").unwrap();
        assert!(matches!(
            Users::from_file(&path),
            Err(UsersError::Malformed {
                line: 2,
                problem: UsersProblem::Duplicate,
                ..
            })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Users::AnyLogin.check(b"x", b"y"));
    }
}
