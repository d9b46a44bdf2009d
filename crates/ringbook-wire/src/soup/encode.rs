//! Writing SoupBinTCP 4.0 packets (section 2) onto the end of a byte buffer, which a
//! caller reuses so that nothing allocates once it has grown to its working size.

use super::login::{
    LOGIN_ACCEPTED_LEN, LOGIN_REQUEST_LEN, LoginAccepted, LoginRejectReason, LoginRequest,
};
use super::{MAX_PAYLOAD, PacketType, SoupError};

/// Starts a packet of `packet_type` whose payload the caller appends next; returns the
/// position to hand to [`finish_packet`].
pub fn begin_packet(out: &mut Vec<u8>, packet_type: PacketType) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0, packet_type.byte()]);
    start
}

/// Writes the Packet Length of the packet begun at `start`, now that its payload is in.
///
/// # Errors
///
/// [`SoupError::TooLong`] if the payload exceeds [`MAX_PAYLOAD`]; the partial packet is
/// removed from `out`.
pub fn finish_packet(out: &mut Vec<u8>, start: usize) -> Result<(), SoupError> {
    let length = out.len() - start - 2;
    let Ok(field) = u16::try_from(length) else {
        out.truncate(start);
        return Err(SoupError::TooLong {
            offset: start as u64,
            length,
            bound: MAX_PAYLOAD + 1,
        });
    };
    out[start..start + 2].copy_from_slice(&field.to_be_bytes());
    Ok(())
}

fn with_payload(
    out: &mut Vec<u8>,
    packet_type: PacketType,
    payload: &[u8],
) -> Result<(), SoupError> {
    let start = begin_packet(out, packet_type);
    out.extend_from_slice(payload);
    finish_packet(out, start)
}

fn empty(out: &mut Vec<u8>, packet_type: PacketType) {
    out.extend_from_slice(&[0, 1, packet_type.byte()]);
}

/// A Debug Packet (section 2.1).
///
/// # Errors
///
/// [`SoupError::TooLong`] for a text past [`MAX_PAYLOAD`].
pub fn debug(out: &mut Vec<u8>, text: &[u8]) -> Result<(), SoupError> {
    with_payload(out, PacketType::Debug, text)
}

/// A Login Accepted packet (section 2.2.1).
pub fn login_accepted(out: &mut Vec<u8>, accepted: &LoginAccepted) {
    let mut payload = [0u8; LOGIN_ACCEPTED_LEN];
    accepted.encode(&mut payload);
    out.extend_from_slice(&[0, 1 + LOGIN_ACCEPTED_LEN as u8, b'A']);
    out.extend_from_slice(&payload);
}

/// A Login Rejected packet (section 2.2.2).
pub fn login_rejected(out: &mut Vec<u8>, reason: LoginRejectReason) {
    out.extend_from_slice(&[0, 2, b'J', reason.byte()]);
}

/// A Sequenced Data packet (section 2.2.3).
///
/// # Errors
///
/// [`SoupError::TooLong`] for a message past [`MAX_PAYLOAD`].
pub fn sequenced(out: &mut Vec<u8>, message: &[u8]) -> Result<(), SoupError> {
    with_payload(out, PacketType::SequencedData, message)
}

/// A Server Heartbeat packet (section 2.2.4).
pub fn server_heartbeat(out: &mut Vec<u8>) {
    empty(out, PacketType::ServerHeartbeat);
}

/// An End of Session packet (section 2.2.5).
pub fn end_of_session(out: &mut Vec<u8>) {
    empty(out, PacketType::EndOfSession);
}

/// A Login Request packet (section 2.3.1).
pub fn login_request(out: &mut Vec<u8>, request: &LoginRequest) {
    let mut payload = [0u8; LOGIN_REQUEST_LEN];
    request.encode(&mut payload);
    out.extend_from_slice(&[0, 1 + LOGIN_REQUEST_LEN as u8, b'L']);
    out.extend_from_slice(&payload);
}

/// An Unsequenced Data packet (section 2.3.2).
///
/// # Errors
///
/// [`SoupError::TooLong`] for a message past [`MAX_PAYLOAD`].
pub fn unsequenced(out: &mut Vec<u8>, message: &[u8]) -> Result<(), SoupError> {
    with_payload(out, PacketType::UnsequencedData, message)
}

/// A Client Heartbeat packet (section 2.3.3).
pub fn client_heartbeat(out: &mut Vec<u8>) {
    empty(out, PacketType::ClientHeartbeat);
}

/// A Logout Request packet (section 2.3.4).
pub fn logout_request(out: &mut Vec<u8>) {
    empty(out, PacketType::LogoutRequest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_packets_have_the_spec_lengths_and_types() {
        let mut out = Vec::new();
        server_heartbeat(&mut out);
        end_of_session(&mut out);
        login_rejected(&mut out, LoginRejectReason::NotAuthorized);
        assert_eq!(out, [0, 1, b'H', 0, 1, b'Z', 0, 2, b'J', b'A']);
        out.clear();
        let request = LoginRequest::new("u", "p", "", 1).unwrap();
        login_request(&mut out, &request);
        assert_eq!(out.len(), 3 + 46);
        assert_eq!(&out[..3], &[0, 47, b'L']);
    }

    #[test]
    fn an_oversized_payload_is_refused_and_leaves_the_buffer_as_it_was() {
        let mut out = vec![1, 2, 3];
        let big = vec![b'x'; MAX_PAYLOAD + 1];
        assert!(matches!(
            sequenced(&mut out, &big),
            Err(SoupError::TooLong { .. })
        ));
        assert_eq!(out, [1, 2, 3]);
        sequenced(&mut out, &big[..MAX_PAYLOAD]).unwrap();
        assert_eq!(&out[3..5], &[0xff, 0xff]);
    }
}
