//! What `ringbook feed` prints: each book's top of book, and the comparison of rebuilt
//! books with a snapshot.

use std::fmt::Write;

use ringbook::Side;
use ringbook_gateway::feed::{RebuiltBooks, Snapshot};

/// One line per book: symbol, trading state, best bid and ask (quantity @ price, prices
/// in ITCH's Price (4) units, which are Ringbook's ticks), resting orders.
pub(crate) fn render_tops(books: &RebuiltBooks) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6} {:<8} {:<7} {:>22} {:>22} {:>8}",
        "locate", "symbol", "state", "bid (qty@price)", "ask (qty@price)", "orders"
    );
    for (locate, book) in books.iter() {
        let side =
            |top: Option<(u32, u64)>| top.map_or("-".to_string(), |(p, q)| format!("{q}@{p}"));
        let _ = writeln!(
            out,
            "{:>6} {:<8} {:<7} {:>22} {:>22} {:>8}",
            locate,
            book.stock
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            if book.halted { "halted" } else { "trading" },
            side(book.best_bid()),
            side(book.best_ask()),
            book.orders()
        );
    }
    out
}

/// Compares rebuilt books with a snapshot taken at the same point of the feed.
pub(crate) fn verify_against_snapshot(
    books: &RebuiltBooks,
    next_seq: u64,
    snapshot: &Snapshot,
) -> Result<(), String> {
    if snapshot.next_seq != next_seq {
        return Err(format!(
            "verify: the snapshot is at message {}, the rebuilt books at {next_seq}",
            snapshot.next_seq
        ));
    }
    let mut expected = RebuiltBooks::new();
    for (index, message) in snapshot.messages.iter().enumerate() {
        expected
            .apply(0, message)
            .map_err(|e| format!("verify: snapshot message {index}: {e}"))?;
    }
    let mine: Vec<_> = books.iter().collect();
    let theirs: Vec<_> = expected.iter().collect();
    if mine.len() != theirs.len() {
        return Err(format!(
            "verify: {} books rebuilt, {} in the snapshot",
            mine.len(),
            theirs.len()
        ));
    }
    for ((locate, a), (_, b)) in mine.into_iter().zip(theirs) {
        if a.halted != b.halted {
            return Err(format!(
                "verify: locate {locate}: halted {} here, {} in the snapshot",
                a.halted, b.halted
            ));
        }
        for side in [Side::Buy, Side::Sell] {
            let (x, y) = (a.levels(side), b.levels(side));
            if let Some(i) = (0..x.len().max(y.len())).find(|&i| x.get(i) != y.get(i)) {
                return Err(format!(
                    "verify: locate {locate} {side} level {i}: rebuilt {:?}, snapshot {:?}",
                    x.get(i),
                    y.get(i)
                ));
            }
        }
        if a != b {
            return Err(format!(
                "verify: locate {locate}: the same levels but different order references"
            ));
        }
    }
    Ok(())
}
