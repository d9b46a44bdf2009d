//! Cutting a SoupBinTCP byte stream into packets (section 2: "Packet Length" then
//! "Packet Type" then the payload), with every check the spec implies made before the
//! payload is trusted: a length of zero, a length past the receiver's bound (checked as
//! soon as the 2-byte length is in, so an oversized packet is refused before it is
//! buffered), an unknown type, a type sent the wrong way, and a fixed-size packet of the
//! wrong size.

use super::{HEADER_LEN, PacketType, SoupError};

/// Who sent the bytes being framed: decides which packet types are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The bytes come from a client (a server reads them).
    Client,
    /// The bytes come from a server (a client reads them).
    Server,
}

impl Sender {
    fn name(self) -> &'static str {
        match self {
            Sender::Client => "client",
            Sender::Server => "server",
        }
    }
}

/// One whole packet at the front of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Its type.
    pub packet_type: PacketType,
    /// Its payload (after the type byte).
    pub payload: &'a [u8],
    /// How many bytes of the buffer it takes (length field, type and payload).
    pub wire_len: usize,
}

/// Reads the packet at the front of `buf`.
///
/// `offset` is where `buf` starts in the stream (for the errors); `max_payload` the
/// largest payload the receiver accepts.
///
/// Returns `Ok(None)` when `buf` does not hold a whole packet yet (and nothing is wrong
/// with what it holds so far).
///
/// # Errors
///
/// A [`SoupError`] naming the packet's stream offset for any packet the spec forbids.
pub fn next_packet(
    buf: &[u8],
    offset: u64,
    max_payload: usize,
    sender: Sender,
) -> Result<Option<Packet<'_>>, SoupError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let length = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
    if length == 0 {
        return Err(SoupError::ZeroLength { offset });
    }
    if length - 1 > max_payload {
        return Err(SoupError::TooLong {
            offset,
            length,
            bound: max_payload + 1,
        });
    }
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let byte = buf[2];
    let packet_type = PacketType::from_byte(byte).ok_or(SoupError::UnknownType { offset, byte })?;
    let allowed = match sender {
        Sender::Client => packet_type.from_client(),
        Sender::Server => packet_type.from_server(),
    };
    if !allowed {
        return Err(SoupError::WrongDirection {
            offset,
            byte,
            sender: sender.name(),
        });
    }
    let payload_len = length - 1;
    if let Some(expected) = packet_type.fixed_payload()
        && expected != payload_len
    {
        return Err(SoupError::BadLength {
            offset,
            byte,
            expected,
            actual: payload_len,
        });
    }
    let wire_len = 2 + length;
    if buf.len() < wire_len {
        return Ok(None);
    }
    Ok(Some(Packet {
        packet_type,
        payload: &buf[HEADER_LEN..wire_len],
        wire_len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soup::encode;

    #[test]
    fn a_stream_of_packets_is_cut_at_the_stated_lengths_and_partial_packets_wait() {
        let mut stream = Vec::new();
        encode::unsequenced(&mut stream, b"hello").unwrap();
        encode::client_heartbeat(&mut stream);
        encode::logout_request(&mut stream);
        assert_eq!(&stream[..8], &[0, 6, b'U', b'h', b'e', b'l', b'l', b'o']);
        let mut at = 0;
        let mut seen = Vec::new();
        while let Some(p) = next_packet(&stream[at..], at as u64, 100, Sender::Client).unwrap() {
            seen.push((p.packet_type, p.payload.to_vec()));
            at += p.wire_len;
        }
        assert_eq!(at, stream.len());
        assert_eq!(
            seen,
            vec![
                (PacketType::UnsequencedData, b"hello".to_vec()),
                (PacketType::ClientHeartbeat, vec![]),
                (PacketType::LogoutRequest, vec![]),
            ]
        );
        for cut in 0..8 {
            assert_eq!(
                next_packet(&stream[..cut], 0, 100, Sender::Client),
                Ok(None),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn every_forbidden_packet_is_refused_with_its_offset() {
        assert_eq!(
            next_packet(&[0, 0, b'R'], 9, 10, Sender::Client),
            Err(SoupError::ZeroLength { offset: 9 })
        );
        // Refused from the length alone, before the rest is buffered.
        assert_eq!(
            next_packet(&[0xff, 0xff], 3, 1000, Sender::Client),
            Err(SoupError::TooLong {
                offset: 3,
                length: 65535,
                bound: 1001
            })
        );
        assert_eq!(
            next_packet(&[0, 1, b'x'], 0, 10, Sender::Client),
            Err(SoupError::UnknownType {
                offset: 0,
                byte: b'x'
            })
        );
        assert_eq!(
            next_packet(&[0, 1, b'H'], 0, 10, Sender::Client),
            Err(SoupError::WrongDirection {
                offset: 0,
                byte: b'H',
                sender: "client"
            })
        );
        assert_eq!(
            next_packet(&[0, 2, b'R', 0], 0, 10, Sender::Client),
            Err(SoupError::BadLength {
                offset: 0,
                byte: b'R',
                expected: 0,
                actual: 1
            })
        );
        assert_eq!(
            next_packet(&[0, 2, b'L', 0], 0, 100, Sender::Client),
            Err(SoupError::BadLength {
                offset: 0,
                byte: b'L',
                expected: 46,
                actual: 1
            })
        );
        assert!(
            next_packet(&[0, 1, b'H'], 0, 10, Sender::Server)
                .unwrap()
                .is_some()
        );
    }
}
