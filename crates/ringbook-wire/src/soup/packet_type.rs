//! The SoupBinTCP 4.0 packet types (spec sections 2.1 to 2.3).

/// One SoupBinTCP packet type: the byte after the Packet Length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `+` Debug Packet (section 2.1): free text, either direction.
    Debug,
    /// `A` Login Accepted (section 2.2.1), server to client.
    LoginAccepted,
    /// `J` Login Rejected (section 2.2.2), server to client.
    LoginRejected,
    /// `S` Sequenced Data (section 2.2.3), server to client.
    SequencedData,
    /// `H` Server Heartbeat (section 2.2.4), server to client.
    ServerHeartbeat,
    /// `Z` End of Session (section 2.2.5), server to client.
    EndOfSession,
    /// `L` Login Request (section 2.3.1), client to server.
    LoginRequest,
    /// `U` Unsequenced Data (section 2.3.2), client to server.
    UnsequencedData,
    /// `R` Client Heartbeat (section 2.3.3), client to server.
    ClientHeartbeat,
    /// `O` Logout Request (section 2.3.4), client to server.
    LogoutRequest,
}

impl PacketType {
    /// Every packet type.
    pub const ALL: [PacketType; 10] = [
        PacketType::Debug,
        PacketType::LoginAccepted,
        PacketType::LoginRejected,
        PacketType::SequencedData,
        PacketType::ServerHeartbeat,
        PacketType::EndOfSession,
        PacketType::LoginRequest,
        PacketType::UnsequencedData,
        PacketType::ClientHeartbeat,
        PacketType::LogoutRequest,
    ];

    /// The type byte on the wire.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            PacketType::Debug => b'+',
            PacketType::LoginAccepted => b'A',
            PacketType::LoginRejected => b'J',
            PacketType::SequencedData => b'S',
            PacketType::ServerHeartbeat => b'H',
            PacketType::EndOfSession => b'Z',
            PacketType::LoginRequest => b'L',
            PacketType::UnsequencedData => b'U',
            PacketType::ClientHeartbeat => b'R',
            PacketType::LogoutRequest => b'O',
        }
    }

    /// The type a byte names, `None` for a byte the spec does not define.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<PacketType> {
        Some(match byte {
            b'+' => PacketType::Debug,
            b'A' => PacketType::LoginAccepted,
            b'J' => PacketType::LoginRejected,
            b'S' => PacketType::SequencedData,
            b'H' => PacketType::ServerHeartbeat,
            b'Z' => PacketType::EndOfSession,
            b'L' => PacketType::LoginRequest,
            b'U' => PacketType::UnsequencedData,
            b'R' => PacketType::ClientHeartbeat,
            b'O' => PacketType::LogoutRequest,
            _ => return None,
        })
    }

    /// The payload length the spec fixes for this type, `None` for a variable payload
    /// (debug text and the two data packets).
    #[must_use]
    pub const fn fixed_payload(self) -> Option<usize> {
        match self {
            PacketType::Debug | PacketType::SequencedData | PacketType::UnsequencedData => None,
            PacketType::LoginAccepted => Some(crate::soup::login::LOGIN_ACCEPTED_LEN),
            PacketType::LoginRejected => Some(1),
            PacketType::LoginRequest => Some(crate::soup::login::LOGIN_REQUEST_LEN),
            PacketType::ServerHeartbeat
            | PacketType::EndOfSession
            | PacketType::ClientHeartbeat
            | PacketType::LogoutRequest => Some(0),
        }
    }

    /// Whether a server sends this type (the rest are sent by clients; Debug by both).
    #[must_use]
    pub const fn from_server(self) -> bool {
        matches!(
            self,
            PacketType::Debug
                | PacketType::LoginAccepted
                | PacketType::LoginRejected
                | PacketType::SequencedData
                | PacketType::ServerHeartbeat
                | PacketType::EndOfSession
        )
    }

    /// Whether a client sends this type (Debug is sent by both).
    #[must_use]
    pub const fn from_client(self) -> bool {
        matches!(
            self,
            PacketType::Debug
                | PacketType::LoginRequest
                | PacketType::UnsequencedData
                | PacketType::ClientHeartbeat
                | PacketType::LogoutRequest
        )
    }
}

#[cfg(test)]
mod tests {
    use super::PacketType;

    #[test]
    fn every_type_round_trips_through_its_byte_and_direction_is_exclusive_but_debug() {
        for t in PacketType::ALL {
            assert_eq!(PacketType::from_byte(t.byte()), Some(t));
            if t != PacketType::Debug {
                assert_ne!(t.from_server(), t.from_client(), "{t:?}");
            }
        }
        assert_eq!(PacketType::from_byte(b'x'), None);
        assert_eq!(PacketType::from_byte(0), None);
    }
}
