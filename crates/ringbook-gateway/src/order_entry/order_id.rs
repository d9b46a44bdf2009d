//! The engine's order id of an OUCH order, derived from (user, UserRefNum) and back.
//!
//! ```text
//! bits 127..112  0x4F55 ("OU": an order entered over OUCH)
//! bits 111..64   the username's 6 bytes as SoupBinTCP pads them (right-padded with spaces)
//! bits  63..32   0
//! bits  31..0    the UserRefNum
//! ```
//!
//! So the same user and UserRefNum always give the same id (after a restart too), and
//! the responder finds the owning user and UserRefNum of any event from the id alone.

use ringbook::Uuid;

const TAG: u128 = 0x4F55;

/// A user's key: the username's 6 padded bytes as an integer.
pub type UserKey = u64;

/// The key of a username (at most 6 bytes; padded with spaces on the right).
#[must_use]
pub fn user_key(username: &[u8]) -> UserKey {
    let mut padded = [b' '; 6];
    let n = username.len().min(6);
    padded[..n].copy_from_slice(&username[..n]);
    padded
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// The username a key stands for, without padding.
#[must_use]
pub fn username_of(key: UserKey) -> String {
    let bytes: Vec<u8> = (0..6).rev().map(|i| (key >> (8 * i)) as u8).collect();
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// The engine order id of `user_ref_num` entered by `user`.
#[must_use]
pub fn order_id(user: UserKey, user_ref_num: u32) -> Uuid {
    Uuid::from_u128((TAG << 112) | (u128::from(user) << 64) | u128::from(user_ref_num))
}

/// The user and UserRefNum of an order id, `None` for an id not made by [`order_id`].
#[must_use]
pub fn owner_of(id: &Uuid) -> Option<(UserKey, u32)> {
    let v = id.as_u128();
    if v >> 112 != TAG || (v >> 32) as u32 != 0 {
        return None;
    }
    Some((((v >> 64) as u64) & 0xFFFF_FFFF_FFFF, v as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_lead_back_to_their_owner() {
        let alice = user_key(b"alice");
        assert_eq!(alice, user_key(b"alice "));
        assert_eq!(username_of(alice), "alice");
        let id = order_id(alice, 42);
        assert_eq!(id, order_id(user_key(b"alice"), 42));
        assert_ne!(id, order_id(user_key(b"bob"), 42));
        assert_ne!(id, order_id(alice, 43));
        assert_eq!(owner_of(&id), Some((alice, 42)));
        assert_eq!(
            owner_of(&order_id(alice, u32::MAX)),
            Some((alice, u32::MAX))
        );
        assert_eq!(owner_of(&Uuid::from_u128(7)), None);
        assert_eq!(id.to_string(), "4f55616c-6963-6520-0000-00000000002a");
    }
}
