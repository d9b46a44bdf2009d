//! Last trade price, stop and stop-limit orders.

use super::check;

#[test]
fn the_last_trade_price_starts_null_moves_with_trades_and_survives_a_halt() {
    check(
        "status,1,,,,,,,,,
add,1,1,sell,limit,100,5,,,,
add,1,2,buy,limit,100,2,,,,
status,1,,,,,,,,,
halt,1,,,,,,,,,
status,1,,,,,,,,,",
        &[
            "status bid -x0 ask -x0 levels 0/0 orders 0 stops 0 last -",
            "accepted 1 sell limit 100 5",
            "accepted 2 buy limit 100 2",
            "trade 2x1 100 2 (0/3)",
            "status bid -x0 ask 100x3 levels 0/1 orders 1 stops 0 last 100",
            "halted",
            "status bid -x0 ask 100x3 levels 0/1 orders 1 stops 0 last 100",
        ],
    );
}

#[test]
fn a_parked_stop_is_in_no_level_and_the_snapshot_lists_stops_in_acceptance_order() {
    check(
        "add,1,1,buy,stop,,5,,,110,
add,1,2,sell,stop_limit,90,3,,,95,
add,1,3,buy,limit,99,1,,,,
status,1,,,,,,,,,
snapshot,1,,,,,,,,,",
        &[
            "accepted 1 buy stop - 5 trigger 110",
            "accepted 2 sell stop_limit 90 3 trigger 95",
            "accepted 3 buy limit 99 1",
            "status bid 99x1 ask -x0 levels 1/0 orders 1 stops 2 last -",
            "snapshot bids 99[3:1] | asks  | stops 1 buy stop 110 - 5, 2 sell stop_limit 95 90 3",
        ],
    );
}

#[test]
fn a_buy_stop_triggers_at_or_above_and_a_sell_stop_at_or_below_its_trigger() {
    check(
        "add,1,10,sell,limit,100,10,,,,
add,1,11,buy,limit,98,10,,,,
add,1,1,buy,stop,,2,,,101,
add,1,2,sell,stop,,2,,,97,
add,1,20,buy,limit,100,1,,,,
add,1,12,sell,limit,101,5,,,,
add,1,21,buy,limit,101,10,,,,
add,1,22,sell,limit,97,12,,,,
add,1,23,buy,limit,97,1,,,,",
        &[
            "accepted 10 sell limit 100 10",
            "accepted 11 buy limit 98 10",
            // No last trade price yet: nothing can trigger.
            "accepted 1 buy stop - 2 trigger 101",
            "accepted 2 sell stop - 2 trigger 97",
            // 100: below the buy stop's 101, above the sell stop's 97.
            "accepted 20 buy limit 100 1",
            "trade 20x10 100 1 (0/9)",
            "accepted 12 sell limit 101 5",
            "accepted 21 buy limit 101 10",
            "trade 21x10 100 9 (1/0)",
            "trade 21x12 101 1 (0/4)",
            // 101 >= 101: the buy stop matches as a market order.
            "triggered 1 buy stop 101",
            "trade 1x12 101 2 (0/2)",
            "accepted 22 sell limit 97 12",
            "trade 22x11 98 10 (2/0)",
            "accepted 23 buy limit 97 1",
            "trade 23x22 97 1 (0/1)",
            // 97 <= 97: the sell stop, with no bid left, expires whole.
            "triggered 2 sell stop 97",
            "expired 2 sell - 2",
        ],
    );
}

#[test]
fn a_stop_whose_condition_already_holds_triggers_right_after_its_accepted() {
    check(
        "add,1,10,sell,limit,100,5,,,,
add,1,20,buy,limit,100,1,,,,
add,1,1,buy,stop_limit,100,2,,,99,",
        &[
            "accepted 10 sell limit 100 5",
            "accepted 20 buy limit 100 1",
            "trade 20x10 100 1 (0/4)",
            "accepted 1 buy stop_limit 100 2 trigger 99",
            "triggered 1 buy stop_limit 99",
            "trade 1x10 100 2 (0/2)",
        ],
    );
}

#[test]
fn stops_activate_earliest_accepted_first_and_cascade_inside_the_op() {
    check(
        "add,1,10,sell,limit,100,1,,,,
add,1,11,sell,limit,101,1,,,,
add,1,12,sell,limit,102,5,,,,
add,1,1,buy,stop,,1,,,100,
add,1,2,buy,stop,,1,,,99,
add,1,3,buy,stop_limit,105,1,,,102,
add,1,20,buy,limit,100,1,,,,
status,1,,,,,,,,,",
        &[
            "accepted 10 sell limit 100 1",
            "accepted 11 sell limit 101 1",
            "accepted 12 sell limit 102 5",
            "accepted 1 buy stop - 1 trigger 100",
            "accepted 2 buy stop - 1 trigger 99",
            "accepted 3 buy stop_limit 105 1 trigger 102",
            "accepted 20 buy limit 100 1",
            "trade 20x10 100 1 (0/0)",
            // Both 1 and 2 hold at 100: 1 was accepted first.
            "triggered 1 buy stop 100",
            "trade 1x11 101 1 (0/0)",
            "triggered 2 buy stop 99",
            "trade 2x12 102 1 (0/4)",
            // 2's trade moved the price to 102: 3 triggers in the same op.
            "triggered 3 buy stop_limit 102",
            "trade 3x12 102 1 (0/3)",
            "status bid -x0 ask 102x3 levels 0/1 orders 1 stops 0 last 102",
        ],
    );
}

#[test]
fn an_activated_stop_limit_rests_and_an_activated_stop_expires_its_rest() {
    check(
        "add,1,10,sell,limit,100,1,,,,
add,1,1,buy,stop_limit,99,5,,,100,
add,1,2,buy,stop,,5,,,100,
add,1,20,buy,limit,100,1,,,,
snapshot,1,,,,,,,,,",
        &[
            "accepted 10 sell limit 100 1",
            "accepted 1 buy stop_limit 99 5 trigger 100",
            "accepted 2 buy stop - 5 trigger 100",
            "accepted 20 buy limit 100 1",
            "trade 20x10 100 1 (0/0)",
            "triggered 1 buy stop_limit 100",
            "triggered 2 buy stop 100",
            "expired 2 buy - 5",
            "snapshot bids 99[1:5] | asks  | stops ",
        ],
    );
}

#[test]
fn a_parked_stop_is_cancelled_not_modified_and_its_id_is_taken() {
    check(
        "add,1,1,buy,stop,,5,,,110,
add,1,2,sell,stop_limit,90,3,,,95,
modify,1,1,,,100,5,,,,
add,1,1,buy,limit,100,1,,,,
modify,1,9,,,100,5,,,,
cancel,1,1,,,,,,,,
cancel,1,2,,,,,,,,
cancel,1,2,,,,,,,,
add,1,3,buy,stop,,0,,,100,
halt,1,,,,,,,,,
add,1,3,buy,stop,,1,,,100,
status,1,,,,,,,,,",
        &[
            "accepted 1 buy stop - 5 trigger 110",
            "accepted 2 sell stop_limit 90 3 trigger 95",
            "rejected modify 1 not_modifiable",
            "rejected add 1 duplicate_order_id",
            "rejected modify 9 unknown_order",
            "cancelled 1 buy - 5",
            "cancelled 2 sell 90 3",
            "rejected cancel 2 unknown_order",
            "rejected add 3 invalid_quantity",
            "halted",
            "rejected add 3 orderbook_halted",
            "status bid -x0 ask -x0 levels 0/0 orders 0 stops 0 last -",
        ],
    );
}
