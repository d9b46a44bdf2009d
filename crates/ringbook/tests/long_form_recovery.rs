//! Crash recovery of the long form's state: a long-form flow (stops, icebergs, owners with
//! self-trade prevention, mass cancels) journaled with snapshots taken while stops are
//! parked and icebergs hide quantity; after a crash (no clean-shutdown marker, a torn last
//! record), the newest snapshot plus the journal after it rebuild books whose state hash
//! equals the books' before the crash, and which behave the same from there on.

use ringbook::flow::{FlowGenerator, GenConfig, LongFormMix};
use ringbook::journal::{
    CLOSED_FILE, EngineSnapshot, JournalConfig, JournalEntry, JournalWriter, SyncPolicy,
    for_each_entry, load_latest_snapshot, read_snapshot, write_snapshot,
};
use ringbook::{BookImage, Command, OrderBook, OrderbookResult, state_hash_of};
use ringbook_testkit::scratch::TempDir;

fn images(books: &[OrderBook]) -> Vec<BookImage> {
    books.iter().map(OrderBook::image).collect()
}

fn book_of<'a>(books: &'a mut [OrderBook], command: &Command) -> &'a mut OrderBook {
    books
        .iter_mut()
        .find(|b| b.instrument_id() == command.instrument_id())
        .expect("a registered instrument")
}

#[test]
fn a_crash_recovers_parked_stops_icebergs_and_owners_exactly() {
    let dir = TempDir::new("long-form-recover");
    let generator = FlowGenerator::new(
        GenConfig::new(23, 2, 20_000)
            .with_depth(300)
            .with_long_form(Some(LongFormMix::standard())),
    );
    let instruments = generator.instruments().to_vec();
    let commands: Vec<Command> = generator.take(12_000).collect();
    let mut books: Vec<OrderBook> = instruments.iter().map(|&i| OrderBook::new(i)).collect();
    let mut hashes = vec![state_hash_of(&books.iter().collect::<Vec<_>>())];
    let config = JournalConfig::default()
        .with_segment_bytes(64 * 1024)
        .with_sync(SyncPolicy::None);
    let mut writer = JournalWriter::open(dir.path(), config).unwrap();
    let mut long_form_snapshots = 0;
    for (n, command) in commands.iter().enumerate() {
        let seq = n as u64 + 1;
        writer
            .append(&JournalEntry::apply(seq, seq, *command))
            .unwrap();
        if seq.is_multiple_of(50) {
            writer.commit_batch().unwrap();
        }
        book_of(&mut books, command).apply(command, &mut |_| {});
        hashes.push(state_hash_of(&books.iter().collect::<Vec<_>>()));
        if seq.is_multiple_of(997) {
            writer.commit_batch().unwrap();
            writer.sync().unwrap();
            let snapshot = EngineSnapshot::new(seq, images(&books));
            let parked: usize = snapshot.books.iter().map(|b| b.stops.len()).sum();
            let hidden = snapshot
                .books
                .iter()
                .flat_map(|b| &b.orders)
                .filter(|o| o.shown < o.qty)
                .count();
            let owned = snapshot
                .books
                .iter()
                .flat_map(|b| &b.orders)
                .filter(|o| o.owner.is_some())
                .count();
            if parked > 0 && hidden > 0 && owned > 0 {
                long_form_snapshots += 1;
            }
            let path = write_snapshot(dir.path(), &snapshot).unwrap();
            // What was written reads back the same.
            assert_eq!(read_snapshot(&path).unwrap(), snapshot);
        }
    }
    writer.commit_batch().unwrap();
    drop(writer);
    // The crash: no clean-shutdown marker, the last record torn.
    std::fs::remove_file(dir.path().join(CLOSED_FILE)).unwrap();
    let mut segments: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .collect();
    segments.sort();
    let last = segments.pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    assert!(
        long_form_snapshots >= 3,
        "{long_form_snapshots} snapshots held parked stops, hidden quantity and owners"
    );

    // Recovery: the newest snapshot, then the journal after it.
    let (snapshot, _) = load_latest_snapshot(dir.path()).unwrap().found.unwrap();
    assert_eq!(snapshot.state_hash(), hashes[snapshot.last_seq as usize]);
    let mut recovered: Vec<OrderBook> = snapshot
        .books
        .iter()
        .map(|image| OrderBook::from_image(image).unwrap())
        .collect();
    let mut last_seq = snapshot.last_seq;
    for_each_entry(dir.path(), snapshot.last_seq, |e| {
        assert_eq!(e.seq, last_seq + 1);
        last_seq = e.seq;
        book_of(&mut recovered, &e.command).apply(&e.command, &mut |_| {});
    })
    .unwrap();
    assert_eq!(
        last_seq,
        commands.len() as u64 - 1,
        "all but the torn record"
    );
    for book in &recovered {
        book.check_integrity().unwrap();
    }
    assert_eq!(
        state_hash_of(&recovered.iter().collect::<Vec<_>>()),
        hashes[last_seq as usize]
    );

    // From here on the recovered books publish what the originals would have.
    let mut originals: Vec<OrderBook> = instruments.iter().map(|&i| OrderBook::new(i)).collect();
    for command in &commands[..last_seq as usize] {
        book_of(&mut originals, command).apply(command, &mut |_| {});
    }
    let tail: Vec<Command> = FlowGenerator::new(
        GenConfig::new(24, 2, 2_000).with_long_form(Some(LongFormMix::standard())),
    )
    .map(|c| ringbook::flow::with_instrument(c, instruments[0]))
    .collect();
    for command in &tail {
        let mut want: Vec<OrderbookResult> = Vec::new();
        let mut got: Vec<OrderbookResult> = Vec::new();
        book_of(&mut originals, command).apply(command, &mut |e| want.push(e));
        book_of(&mut recovered, command).apply(command, &mut |e| got.push(e));
        assert_eq!(got, want, "{command:?}");
    }
}
