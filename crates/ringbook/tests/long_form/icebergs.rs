//! Iceberg orders: shown slices, refills at the back of the level.

use super::check;

#[test]
fn an_iceberg_shows_slices_and_the_same_taker_meets_it_again_after_a_refill() {
    check(
        "add,1,1,sell,limit,100,10,,,,3
add,1,2,sell,limit,100,2,,,,
status,1,,,,,,,,,
add,1,20,buy,limit,100,9,,,,
snapshot,1,,,,,,,,,
status,1,,,,,,,,,",
        &[
            "accepted 1 sell limit 100 10 display 3",
            "accepted 2 sell limit 100 2",
            "status bid -x0 ask 100x5 levels 0/1 orders 2 stops 0 last -",
            "accepted 20 buy limit 100 9",
            // maker_remaining is the whole remaining quantity, hidden part included.
            "trade 20x1 100 3 (6/7)",
            // The refilled slice went behind 2.
            "trade 20x2 100 2 (4/0)",
            "trade 20x1 100 3 (1/4)",
            "trade 20x1 100 1 (0/3)",
            "snapshot bids  | asks 100[1:2] | stops ",
            "status bid -x0 ask 100x2 levels 0/1 orders 1 stops 0 last 100",
        ],
    );
}

#[test]
fn the_refill_goes_to_the_back_even_when_the_fill_completed_the_taker() {
    check(
        "add,1,1,sell,limit,100,10,,,,3
add,1,2,sell,limit,100,2,,,,
add,1,20,buy,limit,100,3,,,,
add,1,21,buy,limit,100,1,,,,
snapshot,1,,,,,,,,,",
        &[
            "accepted 1 sell limit 100 10 display 3",
            "accepted 2 sell limit 100 2",
            "accepted 20 buy limit 100 3",
            "trade 20x1 100 3 (0/7)",
            "accepted 21 buy limit 100 1",
            "trade 21x2 100 1 (0/1)",
            "snapshot bids  | asks 100[2:1 1:3] | stops ",
        ],
    );
}

#[test]
fn modify_and_cancel_of_an_iceberg_speak_of_its_whole_quantity() {
    check(
        "add,1,1,sell,limit,100,10,,,,4
add,1,2,sell,limit,100,5,,,,
modify,1,1,,,100,3,,,,
snapshot,1,,,,,,,,,
modify,1,1,,,100,8,,,,
snapshot,1,,,,,,,,,
cancel,1,1,,,,,,,,",
        &[
            "accepted 1 sell limit 100 10 display 4",
            "accepted 2 sell limit 100 5",
            // Q <= open at the same price: it keeps its place, showing min(shown, Q).
            "modified 1 100 3 from 100 10 kept display 4",
            "snapshot bids  | asks 100[1:3 2:5] | stops ",
            // Q > open: it re-enters at the back showing min(D, Q).
            "modified 1 100 8 from 100 3 display 4",
            "snapshot bids  | asks 100[2:5 1:4] | stops ",
            "cancelled 1 sell 100 8",
        ],
    );
}

#[test]
fn an_iceberg_taker_trades_its_whole_quantity_and_rests_in_slices() {
    check(
        "add,1,1,sell,limit,100,5,,,,
add,1,20,buy,limit,100,12,,,,3
snapshot,1,,,,,,,,,
status,1,,,,,,,,,",
        &[
            "accepted 1 sell limit 100 5",
            "accepted 20 buy limit 100 12 display 3",
            "trade 20x1 100 5 (7/0)",
            "snapshot bids 100[20:3] | asks  | stops ",
            "status bid 100x3 ask -x0 levels 1/0 orders 1 stops 0 last 100",
        ],
    );
}

#[test]
fn a_fok_counts_hidden_quantity() {
    check(
        "add,1,1,sell,limit,100,10,,,,2
add,1,20,buy,fok,100,9,,,,
add,1,21,buy,fok,100,2,,,,",
        &[
            "accepted 1 sell limit 100 10 display 2",
            "accepted 20 buy fok 100 9",
            "trade 20x1 100 2 (7/8)",
            "trade 20x1 100 2 (5/6)",
            "trade 20x1 100 2 (3/4)",
            "trade 20x1 100 2 (1/2)",
            "trade 20x1 100 1 (0/1)",
            "accepted 21 buy fok 100 2",
            "expired 21 buy 100 2",
        ],
    );
}

#[test]
fn a_display_of_zero_is_an_invalid_quantity() {
    check(
        "add,1,1,sell,limit,100,5,,,,0
add,1,2,buy,stop_limit,100,5,,,90,0",
        &[
            "rejected add 1 invalid_quantity",
            "rejected add 2 invalid_quantity",
        ],
    );
}
