//! The login packets' fixed payloads: Login Request (SoupBinTCP 4.0 section 2.3.1),
//! Login Accepted (2.2.1) and Login Rejected (2.2.2).
//!
//! ```text
//! Login Request   Username 6 (alpha, right-padded) | Password 10 (alpha, right-padded)
//!                 | Requested Session 10 (alpha, left-padded; blank = the current session)
//!                 | Requested Sequence Number 20 (numeric, left-padded; 0 = from the next
//!                   message generated, 1 = from the first)                  = 46 bytes
//! Login Accepted  Session 10 (alpha, left-padded) | Sequence Number 20 (numeric,
//!                 left-padded: the number of the next sequenced message sent) = 30 bytes
//! Login Rejected  Reject Reason Code 1: 'A' not authorized, 'S' session not available
//! ```

use super::SoupError;
use super::text::{numeric, put_alpha_left, put_alpha_right, put_numeric, trim};

/// The Login Request payload's length.
pub const LOGIN_REQUEST_LEN: usize = 46;

/// The Login Accepted payload's length.
pub const LOGIN_ACCEPTED_LEN: usize = 30;

/// Width of the Username field.
pub const USERNAME_LEN: usize = 6;
/// Width of the Password field.
pub const PASSWORD_LEN: usize = 10;
/// Width of the Session fields.
pub const SESSION_LEN: usize = 10;
/// Width of the Sequence Number fields.
pub const SEQUENCE_LEN: usize = 20;

/// A Login Request (section 2.3.1), fields as on the wire (padded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginRequest {
    /// Username, right-padded with spaces.
    pub username: [u8; USERNAME_LEN],
    /// Password, right-padded with spaces.
    pub password: [u8; PASSWORD_LEN],
    /// Requested Session, left-padded with spaces; all spaces for the current session.
    pub requested_session: [u8; SESSION_LEN],
    /// Requested Sequence Number: the next sequenced message the client wants; 0 for
    /// the next one generated from now.
    pub requested_sequence: u64,
}

impl LoginRequest {
    /// A request from plain values, padded as the spec says.
    ///
    /// # Errors
    ///
    /// [`SoupError::FieldTooLong`] or [`SoupError::BadAlpha`] for a value that does not
    /// fit its field.
    pub fn new(
        username: &str,
        password: &str,
        requested_session: &str,
        requested_sequence: u64,
    ) -> Result<LoginRequest, SoupError> {
        let mut request = LoginRequest {
            username: [b' '; USERNAME_LEN],
            password: [b' '; PASSWORD_LEN],
            requested_session: [b' '; SESSION_LEN],
            requested_sequence,
        };
        put_alpha_left(&mut request.username, "Username", username.as_bytes())?;
        put_alpha_left(&mut request.password, "Password", password.as_bytes())?;
        put_alpha_right(
            &mut request.requested_session,
            "Requested Session",
            requested_session.as_bytes(),
        )?;
        Ok(request)
    }

    /// Decodes the 46-byte payload.
    ///
    /// # Errors
    ///
    /// [`SoupError::BadLength`] for another size, [`SoupError::BadNumber`] for a
    /// sequence number that is not decimal text.
    pub fn decode(payload: &[u8]) -> Result<LoginRequest, SoupError> {
        if payload.len() != LOGIN_REQUEST_LEN {
            return Err(SoupError::BadLength {
                offset: 0,
                byte: b'L',
                expected: LOGIN_REQUEST_LEN,
                actual: payload.len(),
            });
        }
        let mut request = LoginRequest {
            username: [0; USERNAME_LEN],
            password: [0; PASSWORD_LEN],
            requested_session: [0; SESSION_LEN],
            requested_sequence: numeric("Requested Sequence Number", &payload[26..46])?,
        };
        request.username.copy_from_slice(&payload[0..6]);
        request.password.copy_from_slice(&payload[6..16]);
        request.requested_session.copy_from_slice(&payload[16..26]);
        Ok(request)
    }

    /// Writes the 46-byte payload.
    pub fn encode(&self, out: &mut [u8; LOGIN_REQUEST_LEN]) {
        out[0..6].copy_from_slice(&self.username);
        out[6..16].copy_from_slice(&self.password);
        out[16..26].copy_from_slice(&self.requested_session);
        put_numeric(&mut out[26..46], self.requested_sequence);
    }

    /// The username without padding.
    #[must_use]
    pub fn username_trimmed(&self) -> &[u8] {
        trim(&self.username)
    }

    /// The password without padding.
    #[must_use]
    pub fn password_trimmed(&self) -> &[u8] {
        trim(&self.password)
    }

    /// The requested session without padding (empty: the current session).
    #[must_use]
    pub fn session_trimmed(&self) -> &[u8] {
        trim(&self.requested_session)
    }
}

/// A Login Accepted (section 2.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginAccepted {
    /// The session now logged into, left-padded with spaces.
    pub session: [u8; SESSION_LEN],
    /// The sequence number of the next sequenced message the server sends.
    pub sequence: u64,
}

impl LoginAccepted {
    /// Decodes the 30-byte payload.
    ///
    /// # Errors
    ///
    /// [`SoupError::BadLength`] for another size, [`SoupError::BadNumber`] for a
    /// sequence number that is not decimal text.
    pub fn decode(payload: &[u8]) -> Result<LoginAccepted, SoupError> {
        if payload.len() != LOGIN_ACCEPTED_LEN {
            return Err(SoupError::BadLength {
                offset: 0,
                byte: b'A',
                expected: LOGIN_ACCEPTED_LEN,
                actual: payload.len(),
            });
        }
        let mut session = [0; SESSION_LEN];
        session.copy_from_slice(&payload[0..10]);
        Ok(LoginAccepted {
            session,
            sequence: numeric("Sequence Number", &payload[10..30])?,
        })
    }

    /// Writes the 30-byte payload.
    pub fn encode(&self, out: &mut [u8; LOGIN_ACCEPTED_LEN]) {
        out[0..10].copy_from_slice(&self.session);
        put_numeric(&mut out[10..30], self.sequence);
    }
}

/// Why a login was refused (section 2.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoginRejectReason {
    /// `A`: the username and password are not valid.
    NotAuthorized,
    /// `S`: the requested session is not valid or not available.
    SessionNotAvailable,
}

impl LoginRejectReason {
    /// The Reject Reason Code byte.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            LoginRejectReason::NotAuthorized => b'A',
            LoginRejectReason::SessionNotAvailable => b'S',
        }
    }

    /// The reason a code byte names, `None` for another byte.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<LoginRejectReason> {
        match byte {
            b'A' => Some(LoginRejectReason::NotAuthorized),
            b'S' => Some(LoginRejectReason::SessionNotAvailable),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_request_has_the_spec_layout_byte_for_byte() {
        let request = LoginRequest::new("alice", "secret", "", 7).unwrap();
        let mut out = [0u8; LOGIN_REQUEST_LEN];
        request.encode(&mut out);
        let mut expected = Vec::new();
        expected.extend_from_slice(b"alice ");
        expected.extend_from_slice(b"secret    ");
        expected.extend_from_slice(b"          ");
        expected.extend_from_slice(b"                   7");
        assert_eq!(&out[..], &expected[..]);
        let back = LoginRequest::decode(&out).unwrap();
        assert_eq!(back, request);
        assert_eq!(back.username_trimmed(), b"alice");
        assert_eq!(back.session_trimmed(), b"");
    }

    #[test]
    fn login_accepted_has_the_spec_layout_byte_for_byte() {
        let mut session = [b' '; SESSION_LEN];
        put_alpha_right(&mut session, "Session", b"S1").unwrap();
        let accepted = LoginAccepted {
            session,
            sequence: 12,
        };
        let mut out = [0u8; LOGIN_ACCEPTED_LEN];
        accepted.encode(&mut out);
        assert_eq!(&out[..], b"        S1                  12");
        assert_eq!(LoginAccepted::decode(&out), Ok(accepted));
    }

    #[test]
    fn malformed_login_payloads_are_errors_not_panics() {
        assert!(matches!(
            LoginRequest::decode(&[b' '; 45]),
            Err(SoupError::BadLength {
                expected: 46,
                actual: 45,
                ..
            })
        ));
        let mut bad = [b' '; LOGIN_REQUEST_LEN];
        bad[40] = b'x';
        assert!(matches!(
            LoginRequest::decode(&bad),
            Err(SoupError::BadNumber { .. })
        ));
        assert_eq!(
            LoginRejectReason::from_byte(b'S'),
            Some(LoginRejectReason::SessionNotAvailable)
        );
        assert_eq!(LoginRejectReason::from_byte(b'Q'), None);
    }
}
