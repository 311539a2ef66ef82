//! [`sort_small_by`]: a stable insertion sort for the short lists of one record or one
//! child (visits, requirements, decisions, removals).
//!
//! The standard library's sorts are fast on long slices but each type and comparison
//! they are instantiated for adds several kilobytes of code, which the browser's wasm
//! pays for (it must stay under 600 KB gzip). These lists hold tens of entries, where an
//! insertion sort is as fast and a few hundred bytes per instantiation.

/// Sorts `items` so that no item comes after one it is `less` than; items that compare
/// equal keep their order (stable). Quadratic in the worst case: for short lists.
pub fn sort_small_by<T>(items: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for end in 1..items.len() {
        let mut at = end;
        while at > 0 && less(&items[at], &items[at - 1]) {
            items.swap(at, at - 1);
            at -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_small_by;

    #[test]
    fn sorts_stably() {
        let mut items = vec![(3, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (3, 'e'), (0, 'f')];
        sort_small_by(&mut items, |a, b| a.0 < b.0);
        assert_eq!(
            items,
            [(0, 'f'), (1, 'b'), (1, 'd'), (2, 'c'), (3, 'a'), (3, 'e')]
        );
        let mut empty: Vec<u8> = Vec::new();
        sort_small_by(&mut empty, |a, b| a < b);
        assert!(empty.is_empty());
    }
}
