//! New exemptions in the code: the suppressions of a file that the file at the base
//! revision does not have.

use crate::facts::suppressions::Suppression;

/// The suppressions among `current` (a file's, in file order, over `current_text`)
/// that are new compared with `base_text` (the file at the base revision; `None`: the
/// file is new). A suppression is identified by its comment's text: as many of each
/// text as the base has are old (the first ones), the rest are new. Only suppressions
/// that suppress something count (a reason, rule ids): the others are
/// `invalid-suppression` findings already.
pub fn new_suppressions<'s>(
    current: &'s [Suppression],
    current_text: &str,
    base_text: Option<&str>,
) -> Vec<&'s Suppression> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for s in current.iter().filter(|s| s.malformed.is_none() && s.reason.is_some() && !s.rules.is_empty()) {
        let Some(comment) = current_text.get(s.loc.start as usize..s.loc.end as usize).map(str::trim) else {
            continue;
        };
        let at_base = base_text.map_or(0, |b| b.matches(comment).count());
        let n = seen.entry(comment).or_default();
        *n += 1;
        if *n > at_base {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::source::SourceFile;

    fn suppressions(text: &str) -> Vec<Suppression> {
        let source = SourceFile::new("a.rs".into(), text.into());
        let comments = crate::input::comments::lex_hash_comments(text);
        crate::facts::suppressions::directives(0, &source, &comments, usize::MAX)
    }

    #[test]
    fn only_suppressions_the_base_lacks_are_new() {
        let base = "# gatelint: allow(x) -- one\na = 1\n";
        let now = "# gatelint: allow(x) -- one\na = 1\n# gatelint: allow(x) -- one\nb = 2\n# gatelint: allow(y) -- two\n";
        let list = suppressions(now);
        let new: Vec<usize> = new_suppressions(&list, now, Some(base)).iter().map(|s| s.line).collect();
        assert_eq!(new, [3, 5], "the second copy of an old text is new");
        assert_eq!(new_suppressions(&list, now, None).len(), 3, "a new file's are all new");
        let no_reason = "# gatelint: allow(x)\n";
        assert!(new_suppressions(&suppressions(no_reason), no_reason, None).is_empty());
    }
}
