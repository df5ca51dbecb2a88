//! How gatelint words its messages: "did you mean …?" for a misspelt name (a rule id
//! in a suppression or in `gatelint.toml`, a configuration key, an allowed value), and
//! serde's and toml's messages in TOML's words with the right article.

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

/// A message of serde or toml as gatelint shows it: trimmed, in TOML's words (an
/// array, a table) and with the article fixed before a vowel (`expected a array` →
/// `expected an array`). Every message from serde or toml passes through here.
pub fn tidy_message(message: &str) -> String {
    // serde's names for TOML's arrays and tables.
    let message = message
        .trim()
        .replace("invalid type: sequence", "invalid type: array")
        .replace("expected a sequence", "expected an array")
        .replace("invalid type: map", "invalid type: table")
        .replace("expected a map", "expected a table");
    let message = with_unknown_name_hint(&message);
    let message = message.as_str();
    let mut out = String::with_capacity(message.len() + 8);
    // Quoted text (a value from the file, a key in backticks) is left as it is.
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    for (i, c) in message.char_indices() {
        match quote {
            Some(q) if c == q && prev != Some('\\') => quote = None,
            Some(_) => {}
            None if c == '"' || c == '`' => quote = Some(c),
            None if c == 'a' && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_') => {
                let rest = &message[i + 1..];
                if let Some(word) = rest.strip_prefix(' ')
                    && wants_an(word)
                {
                    out.push_str("an");
                    prev = Some('n');
                    continue;
                }
            }
            None => {}
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// serde's "unknown field `…`, expected one of `…`, `…`" (or "unknown variant")
/// with " (did you mean `x`?)" after the unknown name, when one is close.
fn with_unknown_name_hint(message: &str) -> String {
    let prefix = ["unknown field `", "unknown variant `"].into_iter().find(|p| message.starts_with(p));
    let Some((name, expected)) = prefix.and_then(|p| message[p.len()..].split_once('`')) else {
        return message.to_string();
    };
    // The names in backticks after "expected".
    let hint = hint(name, expected.split('`').skip(1).step_by(2));
    let at = prefix.map_or(0, str::len) + name.len() + 1;
    format!("{}{hint}{}", &message[..at], &message[at..])
}

/// `a string`, `an array`, `an integer`.
pub fn with_article(noun: &str) -> String {
    if wants_an(noun) { format!("an {noun}") } else { format!("a {noun}") }
}

/// Whether the word starting `text` takes `an`: it starts with a vowel sound
/// (`array`, `integer`, `unknown`, but not `unit`, `usize` or `u8`).
fn wants_an(text: &str) -> bool {
    let word: String = text.chars().take_while(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o') => true,
        Some('u') => word.starts_with("un") && !word.starts_with("uni"),
        _ => false,
    }
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
