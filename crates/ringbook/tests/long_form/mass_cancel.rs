//! Mass cancel.

use super::check;

#[test]
fn mass_cancel_removes_an_owners_resting_and_parked_orders_in_acceptance_order() {
    check(
        "add,1,1,buy,limit,99,1,7,,,
add,1,2,sell,limit,101,1,8,,,
add,1,3,sell,stop,,1,7,,90,
add,1,4,sell,limit,102,1,7,,,
add,1,5,buy,limit,98,1,,,,
modify,1,1,,,97,2,,,,
mass_cancel,1,,,,,,7,,,
mass_cancel,1,,sell,,,,,,,
halt,1,,,,,,,,,
mass_cancel,1,,,,,,,,,
mass_cancel,1,,,,,,,,,",
        &[
            "accepted 1 buy limit 99 1",
            "accepted 2 sell limit 101 1",
            "accepted 3 sell stop - 1 trigger 90",
            "accepted 4 sell limit 102 1",
            "accepted 5 buy limit 98 1",
            "modified 1 97 2 from 99 1",
            // A modify does not change the acceptance order.
            "cancelled 1 buy 97 2 mass_cancel",
            "cancelled 3 sell - 1 mass_cancel",
            "cancelled 4 sell 102 1 mass_cancel",
            "mass_cancelled 7 3",
            "cancelled 2 sell 101 1 mass_cancel",
            "mass_cancelled - 1",
            "halted",
            // A halted book is mass cancelled too.
            "cancelled 5 buy 98 1 mass_cancel",
            "mass_cancelled - 1",
            // Nothing left: never silent.
            "mass_cancelled - 0",
        ],
    );
}

#[test]
fn mass_cancel_of_one_side_of_one_owner_leaves_the_rest() {
    check(
        "add,1,1,buy,limit,99,1,7,,,
add,1,2,sell,limit,101,1,7,,,
add,1,3,buy,limit,98,1,8,,,
mass_cancel,1,,buy,,,,7,,,
snapshot,1,,,,,,,,,",
        &[
            "accepted 1 buy limit 99 1",
            "accepted 2 sell limit 101 1",
            "accepted 3 buy limit 98 1",
            "cancelled 1 buy 99 1 mass_cancel",
            "mass_cancelled 7 1",
            "snapshot bids 98[3:1] | asks 101[2:1] | stops ",
        ],
    );
}
