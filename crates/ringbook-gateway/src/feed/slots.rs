//! The instruments' positions by id, for the lookup every event makes: an open-addressed
//! table of at least four cells an instrument, indexed by a multiplicative hash of the
//! id's two halves; a lookup is one multiply and usually one compare (a general hash map
//! hashed the 128-bit id through its seeded hasher; a scan compared every id).

/// A cell: the id and its position, or `EMPTY` as the position.
type Cell = (u128, u32);

/// The position of an empty cell.
const EMPTY: u32 = u32::MAX;

/// Instrument ids to their positions (locate code less one).
#[derive(Debug)]
pub(crate) struct SlotTable {
    cells: Vec<Cell>,
    /// `64 - log2(cells.len())`: the hash's top bits index the table.
    shift: u32,
}

impl SlotTable {
    /// A table of `ids` at their positions (at most `u32::MAX - 1` of them; a repeated id
    /// keeps its first position).
    pub(crate) fn new(ids: &[u128]) -> SlotTable {
        let len = (ids.len() * 4).next_power_of_two().max(8);
        let mut table = SlotTable {
            cells: vec![(0, EMPTY); len],
            shift: 64 - len.trailing_zeros(),
        };
        for (slot, &id) in ids.iter().enumerate() {
            if table.get(id).is_some() {
                continue;
            }
            let mut i = table.index(id);
            while table.cells[i].1 != EMPTY {
                i = (i + 1) & (len - 1);
            }
            table.cells[i] = (id, u32::try_from(slot).unwrap_or(EMPTY - 1));
        }
        table
    }

    #[inline]
    fn index(&self, id: u128) -> usize {
        let folded = (id as u64) ^ ((id >> 64) as u64);
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The position of `id`, if it is an instrument's.
    #[inline]
    pub(crate) fn get(&self, id: u128) -> Option<usize> {
        let mask = self.cells.len() - 1;
        let mut i = self.index(id);
        loop {
            let (cell_id, slot) = self.cells[i];
            if slot == EMPTY {
                return None;
            }
            if cell_id == id {
                return Some(slot as usize);
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_finds_its_position_and_others_find_none() {
        // Sequential ids, ids that differ only in the high half, random-looking ids.
        let mut ids: Vec<u128> = (1..=40).collect();
        ids.extend((1..=40u128).map(|i| i << 64));
        ids.extend((1..=40u128).map(|i| i.wrapping_mul(0x2545_F491_4F6C_DD1D_9E37_79B9_7F4A_7C15)));
        let table = SlotTable::new(&ids);
        for (slot, &id) in ids.iter().enumerate() {
            assert_eq!(table.get(id), Some(slot), "id {id:#x}");
        }
        for id in [0u128, 41, 41 << 64, u128::MAX] {
            assert_eq!(table.get(id), None, "id {id:#x}");
        }
        let empty = SlotTable::new(&[]);
        assert_eq!(empty.get(1), None);
        let repeated = SlotTable::new(&[5, 5, 6]);
        assert_eq!((repeated.get(5), repeated.get(6)), (Some(0), Some(2)));
    }
}
