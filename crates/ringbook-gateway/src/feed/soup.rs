//! The few SoupBinTCP 4.0 packets the GLIMPSE client uses (Packet Length (2, big-endian,
//! excluding itself), Packet Type (1), payload): it sends a Login Request `L` and reads
//! Login Accepted `A` / Login Rejected `J`, Sequenced Data `S`, heartbeats `H` and End of
//! Session `Z`. Written apart from the gateway's SoupBinTCP layer (which serves GLIMPSE)
//! on purpose: the feed tests then check two implementations against each other, and the
//! client has connect and read timeouts.

use std::io::{self, Read, Write};

/// The largest packet this side reads (a Login Request, with room to spare).
const MAX_READ: usize = 1024;

/// Writes one packet.
pub(crate) fn write_packet(out: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len() + 1)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "SoupBinTCP payload too long"))?;
    let mut buf = Vec::with_capacity(payload.len() + 3);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.push(kind);
    buf.extend_from_slice(payload);
    out.write_all(&buf)
}

/// Reads one packet: its type and payload. A length of 0 or past `MAX_READ` is an
/// `InvalidData` error naming it.
pub(crate) fn read_packet(input: &mut impl Read, max: usize) -> io::Result<(u8, Vec<u8>)> {
    let mut len = [0u8; 2];
    input.read_exact(&mut len)?;
    let len = usize::from(u16::from_be_bytes(len));
    if len == 0 || len > max.max(MAX_READ) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "SoupBinTCP packet length {len} outside 1..={}",
                max.max(MAX_READ)
            ),
        ));
    }
    let mut body = vec![0u8; len];
    input.read_exact(&mut body)?;
    let kind = body[0];
    body.remove(0);
    Ok((kind, body))
}

/// A numeric SoupBinTCP field: right-justified, padded on the left with spaces.
pub(crate) fn numeric(value: u64, width: usize) -> Vec<u8> {
    format!("{value:>width$}").into_bytes()
}

/// An alpha SoupBinTCP field: left-justified, padded on the right with spaces.
pub(crate) fn alpha(text: &str, width: usize) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.resize(width, b' ');
    out.truncate(width);
    out
}
