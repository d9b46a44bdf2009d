//! `FlowGenerator` with the long form's mix: every feature shows up, the file form reads
//! back the same, and the flow leaves every book empty.

use std::collections::HashMap;

use ringbook::flow::{
    FlowGenerator, FlowReader, GenConfig, LongFormMix, write_long_flow_header, write_long_flow_line,
};
use ringbook::{Command, EndReason, OrderKind, OrderbookResult};
use ringbook_testkit::reference::NaiveBook;

#[test]
fn a_generated_long_form_flow_uses_every_feature_and_ends_with_empty_books() {
    let config = GenConfig::new(7, 2, 4_000)
        .with_depth(200)
        .with_long_form(Some(LongFormMix::standard()));
    let commands: Vec<Command> = FlowGenerator::new(config.clone()).collect();
    assert_eq!(
        commands,
        FlowGenerator::new(config).collect::<Vec<_>>(),
        "deterministic"
    );
    let mut file = Vec::new();
    write_long_flow_header(&mut file).unwrap();
    for c in &commands {
        write_long_flow_line(&mut file, c).unwrap();
    }
    let read: Vec<Command> = FlowReader::new(file.as_slice())
        .map(|r| r.unwrap().1)
        .collect();
    assert_eq!(read, commands, "the long form reads back the same");

    let adds: Vec<_> = commands
        .iter()
        .filter_map(|c| match c {
            Command::Add(o) => Some(o),
            _ => None,
        })
        .collect();
    let share = |n: usize| n * 1000 / adds.len();
    let stops = share(adds.iter().filter(|o| o.kind.is_stop()).count());
    let owned = share(adds.iter().filter(|o| o.owner().is_some()).count());
    let icebergs = adds.iter().filter(|o| o.display().is_some()).count();
    assert!((70..=130).contains(&stops), "{stops} per mille stops");
    assert!((450..=550).contains(&owned), "{owned} per mille owned");
    assert!(icebergs > 100, "{icebergs} icebergs");
    assert!(adds.iter().any(|o| o.kind == OrderKind::StopLimit));

    let mut books: HashMap<_, NaiveBook> = HashMap::new();
    let mut events = Vec::new();
    for c in &commands {
        let id = c.instrument_id();
        events.extend(
            books
                .entry(id)
                .or_insert_with(|| NaiveBook::new(id))
                .apply(c),
        );
    }
    let count = |f: &dyn Fn(&OrderbookResult) -> bool| events.iter().filter(|e| f(e)).count();
    assert!(count(&|e| matches!(e, OrderbookResult::Triggered { .. })) > 20);
    assert!(
        count(&|e| matches!(
            e,
            OrderbookResult::Cancelled {
                reason: EndReason::SelfTradePrevention,
                ..
            } | OrderbookResult::Expired {
                reason: EndReason::SelfTradePrevention,
                ..
            }
        )) > 5
    );
    assert!(count(&|e| matches!(e, OrderbookResult::MassCancelled { .. })) >= 2);
    for book in books.values() {
        assert!(book.is_empty() && book.parked_len() == 0, "{book:?}");
        assert!(!book.is_halted());
    }
}
