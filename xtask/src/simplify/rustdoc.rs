//! Descriptions that rustdoc renders without warnings (`-D warnings`) and without doctests.
//!
//! Spec text becomes doc comments in every generated crate. Rewritten in `description`,
//! `summary` and `title` of every OpenAPI object (never in examples or names):
//!
//! * bare URLs are wrapped in `<…>` (`rustdoc::bare_urls`);
//! * `[x]` that is not a Markdown link becomes `&#91;x&#93;` (`rustdoc::broken_intra_doc_links`);
//! * HTML tags that are not balanced, known elements are escaped (`rustdoc::invalid_html_tags`;
//!   e.g. `Bearer <JWT>` outside backticks);
//! * fenced code blocks get the `text` info string and indented code blocks become fenced `text`
//!   blocks, since rustdoc would compile an unlabelled block (a JSON sample) as a Rust doctest.
//!
//! Code spans and code blocks are left as they are; Markdown links are kept.

use super::walk;
use serde_json::Value;

/// Elements kept when balanced (rustdoc renders them); anything else is escaped.
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "i",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
];
/// Elements without a closing tag.
const VOID: &[&str] = &["br", "hr", "img", "wbr"];

/// Rewrites every description, summary, title and `termsOfService` in `doc`.
pub fn sanitize(doc: &mut Value) {
    walk::objects(doc, &mut |map| {
        for key in ["description", "summary", "title", "termsOfService"] {
            if let Some(Value::String(text)) = map.get_mut(key) {
                let safe = rustdoc_safe(text);
                if safe != *text {
                    *text = safe;
                }
            }
        }
    });
}

/// The rustdoc-safe form of one Markdown text.
pub fn rustdoc_safe(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut prose: Vec<&str> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut prev_blank = true;
    let mut list_indent: Option<usize> = None;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut prose, &mut out);
            let fence_char = trimmed.chars().next().unwrap_or('`');
            let width = trimmed.chars().take_while(|c| *c == fence_char).count();
            let fence: String = std::iter::repeat_n(fence_char, width).collect();
            let indent = &line[..line.len() - trimmed.len()];
            out.push(format!("{indent}{fence}text"));
            i += 1;
            while i < lines.len() {
                let inner = lines[i];
                i += 1;
                let closing = inner.trim();
                if closing.starts_with(&fence) && closing.chars().all(|c| c == fence_char) {
                    out.push(inner.to_string());
                    break;
                }
                out.push(inner.to_string());
            }
            prev_blank = false;
            continue;
        }
        let indent = indentation(line);
        // An indented code block starts 4 columns past the enclosing list item's content.
        let threshold = list_indent.map_or(4, |c| c + 4);
        if indent >= threshold && prev_blank && !trimmed.is_empty() {
            flush(&mut prose, &mut out);
            let pad = " ".repeat(list_indent.unwrap_or(0));
            out.push(format!("{pad}```text"));
            while i < lines.len() {
                let inner = lines[i];
                if inner.trim().is_empty() {
                    let continues = lines[i + 1..]
                        .iter()
                        .find(|l| !l.trim().is_empty())
                        .is_some_and(|l| indentation(l) >= threshold);
                    if !continues {
                        break;
                    }
                } else if indentation(inner) < threshold {
                    break;
                }
                out.push(format!("{pad}{}", dedent(inner, threshold)));
                i += 1;
            }
            out.push(format!("{pad}```"));
            prev_blank = false;
            continue;
        }
        if trimmed.is_empty() {
            prev_blank = true;
        } else {
            if let Some(width) = list_marker(trimmed) {
                list_indent = Some(indent + width);
            } else if indent == 0 && prev_blank {
                list_indent = None;
            }
            prev_blank = false;
        }
        prose.push(line);
        i += 1;
    }
    flush(&mut prose, &mut out);
    let mut result = out.join("\n");
    if text.ends_with('\n') {
        result.push('\n');
    }
    result
}

/// Leading columns (a tab counts 4).
fn indentation(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// `line` without its first `columns` columns of indentation.
fn dedent(line: &str, columns: usize) -> String {
    let mut taken = 0;
    let mut rest = line;
    while taken < columns {
        match rest.chars().next() {
            Some(' ') => taken += 1,
            Some('\t') => taken += 4,
            _ => break,
        }
        rest = &rest[1..];
    }
    rest.to_string()
}

/// The width of a list marker with its space (`- ` → 2, `10. ` → 4).
fn list_marker(line: &str) -> Option<usize> {
    if ["- ", "* ", "+ "].iter().any(|b| line.starts_with(b)) {
        return Some(2);
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rest = &line[digits..];
    (digits > 0 && (rest.starts_with(". ") || rest.starts_with(") "))).then_some(digits + 2)
}

fn flush(prose: &mut Vec<&str>, out: &mut Vec<String>) {
    if prose.is_empty() {
        return;
    }
    let chunk = prose.join("\n");
    out.extend(inline(&chunk).split('\n').map(str::to_string));
    prose.clear();
}

struct Tag {
    /// Byte offset of the tag's text in the output.
    at: usize,
    len: usize,
    name: String,
    closing: bool,
}

/// Inline rewrites of a prose chunk (no code blocks in it).
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut tags: Vec<Tag> = Vec::new();
    let mut link_closers: Vec<usize> = Vec::new();
    let mut link_depth = 0usize;
    let mut i = 0;
    let starts = |i: usize, s: &str| (i..).zip(s.chars()).all(|(k, c)| chars.get(k) == Some(&c));
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                let run = chars[i..].iter().take_while(|c| **c == '`').count();
                let close = (i + run..chars.len()).find(|&k| {
                    chars[k] == '`'
                        && chars[k..].iter().take_while(|c| **c == '`').count() == run
                        && (k == 0 || chars[k - 1] != '`')
                });
                let end = close.map_or(i + run, |k| k + run);
                out.extend(&chars[i..end]);
                i = end;
            }
            '\\' if i + 1 < chars.len() => {
                out.push(c);
                out.push(chars[i + 1]);
                i += 2;
            }
            '<' if starts(i, "<http://") || starts(i, "<https://") => {
                let end = (i..chars.len())
                    .find(|&k| chars[k] == '>' || chars[k].is_whitespace())
                    .filter(|&k| chars[k] == '>');
                match end {
                    Some(k) => {
                        out.extend(&chars[i..=k]);
                        i = k + 1;
                    }
                    None => {
                        out.push_str("&lt;");
                        i += 1;
                    }
                }
            }
            '<' if starts(i, "<!--") => {
                let end = (i + 4..chars.len()).find(|&k| starts(k, "-->"));
                match end {
                    Some(k) => {
                        out.extend(&chars[i..k + 3]);
                        i = k + 3;
                    }
                    None => {
                        out.push_str("&lt;");
                        i += 1;
                    }
                }
            }
            '<' => match parse_tag(&chars, i) {
                Some((end, name, closing)) => {
                    let text: String = chars[i..end].iter().collect();
                    tags.push(Tag {
                        at: out.len(),
                        len: text.len(),
                        name,
                        closing,
                    });
                    out.push_str(&text);
                    i = end;
                }
                None if chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/') =>
                {
                    out.push_str("&lt;");
                    i += 1;
                }
                None => {
                    out.push('<');
                    i += 1;
                }
            },
            '[' => match link_close(&chars, i) {
                Some(close) => {
                    link_closers.push(close);
                    link_depth += 1;
                    out.push('[');
                    i += 1;
                }
                None => {
                    out.push_str("&#91;");
                    i += 1;
                }
            },
            ']' if link_closers.last() == Some(&i) => {
                link_closers.pop();
                link_depth = link_depth.saturating_sub(1);
                // `](target)`, copied as is.
                let end = target_end(&chars, i + 1).unwrap_or(i + 1);
                out.extend(&chars[i..end]);
                i = end;
            }
            ']' => {
                out.push_str("&#93;");
                i += 1;
            }
            'h' if link_depth == 0
                && (starts(i, "http://") || starts(i, "https://"))
                && (i == 0 || !chars[i - 1].is_alphanumeric()) =>
            {
                let mut end = (i..chars.len())
                    .find(|&k| {
                        chars[k].is_whitespace() || matches!(chars[k], '<' | '>' | '"' | '`')
                    })
                    .unwrap_or(chars.len());
                // Trailing punctuation and an unbalanced `)` belong to the sentence.
                loop {
                    let last = chars[end - 1];
                    let opens = chars[i..end].iter().filter(|c| **c == '(').count();
                    let closes = chars[i..end].iter().filter(|c| **c == ')').count();
                    if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_')
                        || (last == ')' && closes > opens)
                        || matches!(last, ']')
                    {
                        end -= 1;
                    } else {
                        break;
                    }
                }
                out.push('<');
                out.extend(&chars[i..end]);
                out.push('>');
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    escape_unbalanced(&mut out, &tags);
    out
}

/// `<name …>`, `</name>` or `<name …/>`: returns (end index, lower-case name, closing).
fn parse_tag(chars: &[char], start: usize) -> Option<(usize, String, bool)> {
    let mut k = start + 1;
    let closing = chars.get(k) == Some(&'/');
    if closing {
        k += 1;
    }
    if !chars.get(k)?.is_ascii_alphabetic() {
        return None;
    }
    let name_start = k;
    while chars
        .get(k)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '-')
    {
        k += 1;
    }
    let name: String = chars[name_start..k]
        .iter()
        .collect::<String>()
        .to_ascii_lowercase();
    // Attributes run to the next `>`, without another `<`.
    while let Some(c) = chars.get(k) {
        match c {
            '>' => return Some((k + 1, name, closing)),
            '<' => return None,
            c if k == name_start + name.len() && !(c.is_whitespace() || *c == '/') => return None,
            _ => k += 1,
        }
    }
    None
}

/// The index of the `]` closing the `[` at `open` when it starts an inline link `[text](target)`.
fn link_close(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (k, c) in chars.iter().enumerate().skip(open) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return (chars.get(k + 1) == Some(&'(') && target_end(chars, k + 1).is_some())
                        .then_some(k);
                }
            }
            '\n' if chars.get(k + 1) == Some(&'\n') => return None,
            _ => {}
        }
    }
    None
}

/// The index after the `)` closing the `(` at `open`.
fn target_end(chars: &[char], open: usize) -> Option<usize> {
    if chars.get(open) != Some(&'(') {
        return None;
    }
    let mut depth = 0;
    for (k, c) in chars.iter().enumerate().skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            '\n' => return None,
            _ => {}
        }
    }
    None
}

/// Escapes every tag that is not a known element in a balanced pair (or a void element).
fn escape_unbalanced(out: &mut String, tags: &[Tag]) {
    let mut ok = vec![false; tags.len()];
    let mut open: Vec<usize> = Vec::new();
    for (n, tag) in tags.iter().enumerate() {
        if VOID.contains(&tag.name.as_str()) && !tag.closing {
            ok[n] = true;
        } else if !ELEMENTS.contains(&tag.name.as_str()) {
            continue;
        } else if !tag.closing {
            open.push(n);
        } else if let Some(pos) = open.iter().rposition(|o| tags[*o].name == tag.name) {
            // Tags opened after the matching one stay unclosed.
            let opener = open[pos];
            open.truncate(pos);
            ok[opener] = true;
            ok[n] = true;
        }
    }
    for (n, tag) in tags.iter().enumerate().rev() {
        if ok[n] {
            continue;
        }
        let text = &out[tag.at..tag.at + tag.len];
        let escaped = format!("&lt;{}&gt;", &text[1..text.len() - 1]);
        out.replace_range(tag.at..tag.at + tag.len, &escaped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_bare_urls_but_not_links_or_code() {
        assert_eq!(
            rustdoc_safe(
                "See https://a.example/x. Or (https://b.example/y) and [docs](https://c.example) `https://d.example` <https://e.example>"
            ),
            "See <https://a.example/x>. Or (<https://b.example/y>) and [docs](https://c.example) `https://d.example` <https://e.example>"
        );
    }

    #[test]
    fn escapes_non_link_brackets_and_stray_html() {
        assert_eq!(
            rustdoc_safe(
                "Values [optional] use Bearer <JWT> or <b>bold</b> and <p>open, a < b, <br>"
            ),
            "Values &#91;optional&#93; use Bearer &lt;JWT&gt; or <b>bold</b> and &lt;p&gt;open, a < b, <br>"
        );
        assert_eq!(rustdoc_safe("`[x]` and `<y>`"), "`[x]` and `<y>`");
    }

    #[test]
    fn code_blocks_never_become_doctests() {
        let text = "Sample:\n\n```\n{\"a\": [1]}\n```\n\nIndented:\n\n    {\"b\": 2}\n\nEnd.\n\n- item\n\n    continued item text\n\n      code in the item";
        assert_eq!(
            rustdoc_safe(text),
            "Sample:\n\n```text\n{\"a\": [1]}\n```\n\nIndented:\n\n```text\n{\"b\": 2}\n```\n\nEnd.\n\n- item\n\n    continued item text\n\n  ```text\n  code in the item\n  ```"
        );
    }
}
