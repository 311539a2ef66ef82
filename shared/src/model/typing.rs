//! What a keystroke means when the record changed under the field being typed in.
//!
//! A form field sends its whole value on every keystroke. If another device's words
//! arrived after the field last showed the record (the screen is redrawn a frame later,
//! and a field being typed in is not redrawn mid-word), writing that value as it stands
//! would delete them. [`merge_typing`] instead applies the keystroke's change, from what
//! the field showed (`base`) to what it shows now (`typed`), onto the record's current text,
//! keeping the other device's words.

/// One splice that turns `from` into `to`: the byte range of `from` replaced, and the text
/// put there (common prefix and suffix left alone, on character boundaries).
fn splice<'a>(from: &str, to: &'a str) -> (usize, usize, &'a str) {
    let prefix: usize = from
        .chars()
        .zip(to.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let suffix: usize = from[prefix..]
        .chars()
        .rev()
        .zip(to[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    (prefix, from.len() - suffix, &to[prefix..to.len() - suffix])
}

/// The text a field should hold after a keystroke turned `base` (what the field showed)
/// into `typed`, when the record meanwhile holds `current`: the keystroke's change applied
/// to `current`. Where the two changes touch the same words, both texts are kept (this
/// keystroke's first), so nothing either device typed is lost.
pub fn merge_typing(base: &str, typed: &str, current: &str) -> String {
    if current == base {
        return typed.to_owned();
    }
    let (p, pe, ours) = splice(base, typed);
    let (q, qe, theirs) = splice(base, current);
    if pe <= q {
        [&base[..p], ours, &base[pe..q], theirs, &base[qe..]].concat()
    } else if qe <= p {
        [&base[..q], theirs, &base[qe..p], ours, &base[pe..]].concat()
    } else {
        let (first, second) = if p <= q {
            (ours, theirs)
        } else {
            (theirs, ours)
        };
        [&base[..p.min(q)], first, second, &base[pe.max(qe)..]].concat()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::merge_typing;

    #[test]
    fn a_keystroke_keeps_words_that_arrived_meanwhile() {
        // Nothing changed meanwhile: the field's value.
        assert_eq!(merge_typing("Tidy", "Tidy room", "Tidy"), "Tidy room");
        // Both devices wrote into an empty field: both kept, this keystroke's first.
        assert_eq!(merge_typing("", "Seen", " at school"), "Seen at school");
        // Apart: each change where it was made.
        assert_eq!(merge_typing("a b c", "A b c", "a b c d"), "A b c d");
        assert_eq!(merge_typing("a b c", "a b c!", "x b c"), "x b c!");
        // Replacing words the other device changed keeps the other device's words too.
        assert_eq!(
            merge_typing("old words", "new", "old good words"),
            "newgood "
        );
        // A keystroke that changed nothing leaves the record as it is.
        assert_eq!(merge_typing("a", "a", "ab"), "ab");
        // Characters beyond ASCII are split on their boundaries.
        assert_eq!(merge_typing("café", "cafés", "le café"), "le cafés");
    }

    proptest! {
        /// Every character either side inserted is in the result (the alphabets are apart,
        /// so each insertion can be counted).
        #[test]
        fn nothing_either_side_inserted_is_lost(
            base in "[a-c ]{0,12}",
            ours in (0usize..13, 0usize..4, "[x]{0,4}"),
            theirs in (0usize..13, 0usize..4, "[yé]{0,4}"),
        ) {
            let edit = |(at, len, insert): &(usize, usize, String)| {
                let at = (*at).min(base.len());
                let end = (at + len).min(base.len());
                format!("{}{insert}{}", &base[..at], &base[end..])
            };
            let (typed, current) = (edit(&ours), edit(&theirs));
            let merged = merge_typing(&base, &typed, &current);
            let count = |s: &str, c: char| s.chars().filter(|x| *x == c).count();
            prop_assert_eq!(count(&merged, 'x'), count(&typed, 'x'));
            prop_assert_eq!(count(&merged, 'y'), count(&current, 'y'));
            prop_assert_eq!(count(&merged, 'é'), count(&current, 'é'));
            if typed == base {
                prop_assert_eq!(&merged, &current);
            }
        }
    }
}
