//! "Did you mean …?": the known name closest to a misspelt one (a rule id in a
//! suppression or in `gatelint.toml`, a configuration key, an allowed value).

/// The candidate closest to `word` when it is close enough to be a slip of the
/// keyboard: at most a third of the word's length in edits (a swap of two
/// neighbouring letters is one edit; case and `_` for `-` are free), and not
/// every letter. Ties go to the first candidate.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let normalise = |s: &str| s.to_lowercase().replace('_', "-");
    let word = normalise(word);
    let len = word.chars().count();
    let limit = len.max(3) / 3;
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word, &normalise(c)), c))
        .filter(|&(distance, _)| distance <= limit && distance < len)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)`, to follow the misspelt name in a message, or nothing.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map_or(String::new(), |c| format!(" (did you mean `{c}`?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[&str] = &["parse-error", "non-idempotent-insert", "invalid-suppression", "unused-suppression"];

    #[test]
    fn typos_find_their_name_and_strangers_find_none() {
        let rules = RULES.iter().copied();
        assert_eq!(did_you_mean("non-idempotent-inserts", rules.clone()), Some("non-idempotent-insert"));
        assert_eq!(did_you_mean("non_idempotent_insert", rules.clone()), Some("non-idempotent-insert"));
        assert_eq!(did_you_mean("Parse-Eror", rules.clone()), Some("parse-error"));
        assert_eq!(did_you_mean("unused-supression", rules.clone()), Some("unused-suppression"));
        assert_eq!(did_you_mean("wildcard-listen-default", rules.clone()), None);
        assert_eq!(did_you_mean("x", rules.clone()), None);
        assert_eq!(did_you_mean("defualt", ["default", "defaults"]), Some("default"));
        assert_eq!(did_you_mean("ab", ["xy"]), None, "every letter changed");
        assert_eq!(hint("listen-nams", ["listen-names"]), " (did you mean `listen-names`?)");
        assert_eq!(hint("colour", ["exclude"]), "");
    }
}
