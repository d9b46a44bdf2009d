use super::*;

fn filled(n: u8) -> MemoryStore {
    let mut store = MemoryStore::new();
    for i in 1..=n {
        assert_eq!(
            store.append(&vec![i; usize::from(i)]).unwrap(),
            u64::from(i)
        );
    }
    store
}

#[test]
fn a_range_is_read_back_as_sequenced_data_packets_within_the_byte_bound() {
    let store = filled(5);
    let mut out = Vec::new();
    assert_eq!(store.read_packets(1, &mut out, usize::MAX), 5);
    let mut expected = Vec::new();
    for i in 1..=5u8 {
        expected.extend_from_slice(&[0, i + 1, b'S']);
        expected.extend(std::iter::repeat_n(i, usize::from(i)));
    }
    assert_eq!(out, expected);
    // Packets are 3 + i bytes: 4, 5, 6, 7, 8. From seq 2 with 12 bytes: 5 + 6 fit.
    out.clear();
    assert_eq!(store.read_packets(2, &mut out, 12), 2);
    assert_eq!(out.len(), 11);
    // A bound smaller than one packet still yields that packet.
    out.clear();
    assert_eq!(store.read_packets(5, &mut out, 1), 1);
    assert_eq!(out.len(), 8);
    // Exactly the rest.
    out.clear();
    assert_eq!(store.read_packets(4, &mut out, 15), 2);
    out.clear();
    assert_eq!(store.read_packets(6, &mut out, 100), 0);
    assert_eq!(store.read_packets(0, &mut out, 100), 0);
    assert!(out.is_empty());
}

#[test]
fn a_message_too_large_for_a_packet_is_refused() {
    let mut store = MemoryStore::new();
    assert!(matches!(
        store.append(&vec![0; MAX_PAYLOAD + 1]),
        Err(StoreError::TooLarge { length, .. }) if length == MAX_PAYLOAD + 1
    ));
    assert_eq!(store.len(), 0);
}

#[test]
fn a_file_store_reads_back_its_messages_and_cuts_a_torn_tail() {
    let dir = std::env::temp_dir().join(format!("rb-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("u.stream");
    let _ = std::fs::remove_file(&path);
    {
        let mut store = FileStore::open(&path).unwrap();
        store.append(b"one").unwrap();
        store.append(b"two").unwrap();
        store.sync().unwrap();
    }
    // A torn third packet.
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&[0, 9, b'S', b'x']).unwrap();
    drop(file);
    let mut store = FileStore::open(&path).unwrap();
    assert_eq!(store.len(), 2);
    let mut out = Vec::new();
    store.read_packets(2, &mut out, 100);
    assert_eq!(out, [0, 4, b'S', b't', b'w', b'o']);
    assert_eq!(store.append(b"three").unwrap(), 3);
    store.sync().unwrap();
    drop(store);
    assert_eq!(FileStore::open(&path).unwrap().len(), 3);
    // A packet that is not sequenced data is corruption, named by offset.
    std::fs::write(&path, [0, 1, b'S', 0, 1, b'H']).unwrap();
    assert!(matches!(
        FileStore::open(&path),
        Err(StoreError::Corrupt { offset: 3, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_across_chunk_boundaries_give_every_packet_once_and_in_order() {
    // 3,000 messages of 700 to 1,300 bytes: about 3 MB, over several 1 MiB chunks.
    let mut store = MemoryStore::new();
    let mut expected = Vec::new();
    for i in 0..3_000u32 {
        let len = 700 + (i * 37 % 600) as usize;
        let msg: Vec<u8> = (0..len).map(|k| (i as usize + k) as u8).collect();
        store.append(&msg).unwrap();
        expected.extend_from_slice(&((len + 1) as u16).to_be_bytes());
        expected.push(b'S');
        expected.extend_from_slice(&msg);
    }
    assert!(store.chunks.len() >= 3);
    for bound in [1, 5_000, 65_536, 1 << 20, usize::MAX] {
        let mut out = Vec::new();
        let mut seq = 1;
        loop {
            let before = out.len();
            let n = store.read_packets(seq, &mut out, bound);
            if n == 0 {
                break;
            }
            assert!(out.len() - before <= bound.max(1_400), "bound {bound}");
            seq += n;
        }
        assert_eq!(seq, 3_001, "bound {bound}");
        assert_eq!(out, expected, "bound {bound}");
    }
}
