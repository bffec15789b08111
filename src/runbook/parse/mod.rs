//! `*.runbook.md` → [`Runbook`], with errors that name file, line and key.
//!
//! The Markdown is read with pulldown-cmark (front matter as a `+++` metadata
//! block, steps as `##` headings with `{#id}` attributes, blocks as fenced code
//! with an `action`/`verify`/`checkpoint`/`note` info string); block bodies and the
//! front matter are TOML. Any other info string is an error (a typo such as
//! `checkpiont` must not turn a checkpoint into a read step).

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use pulldown_cmark::{
    CodeBlockKind, Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd,
};

use super::{
    Action, Block, COMMON_KEYS, Checkpoint, Common, Condition, Flow, FrontMatter, ParamType,
    Runbook, Step, Verify, VerifyRaw,
};
use crate::runbook::{cond, vars};

mod validate;
use validate::{check_action, check_duration, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    /// 1-based; 0 when the problem is not on one line.
    pub line: usize,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        match &self.key {
            Some(k) => write!(f, ": `{k}`: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Byte offset → 1-based line.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }
    fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, line: usize, key: Option<&str>, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            line,
            key: key.map(str::to_string),
            message: message.into(),
        }
    }
}

/// The line (1-based, within `body`) where `key = …` first appears, if any.
fn key_line(body: &str, key: &str) -> Option<usize> {
    body.lines().position(|l| {
        let t = l.trim_start().trim_start_matches('{').trim_start();
        t.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
            || l.contains(&format!("{key} ="))
            || l.trim() == format!("[{key}]")
            || l.trim() == format!("[[{key}]]")
    })
}

/// Pull the backquoted field name out of a serde message ("unknown field `x`").
fn field_in(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = start + msg[start..].find('`')?;
    Some(msg[start..end].to_string())
}

/// A TOML error at `first_line` (the line of the block's first body line).
fn toml_err(ctx: &Ctx, e: &toml::de::Error, body: &str, first_line: usize) -> ParseError {
    let msg = e.message().to_string();
    let key = field_in(&msg);
    let rel = e
        .span()
        .map(|s| Lines::new(body).line(s.start))
        .or_else(|| {
            key.as_deref()
                .and_then(|k| key_line(body, k).map(|l| l + 1))
        })
        .unwrap_or(1);
    ctx.err(first_line + rel - 1, key.as_deref(), msg)
}

/// The info strings a fenced block may have.
pub const BLOCK_TYPES: &[&str] = &["action", "verify", "checkpoint", "note"];

/// Edit distance with adjacent transpositions (optimal string alignment).
fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The block type `lang` was probably meant to be, if it is a near miss.
fn did_you_mean(lang: &str) -> Option<&'static str> {
    let l = lang.to_lowercase();
    // Long tags from untrusted files: no quadratic work on them.
    if l.chars().count() > 24 {
        return None;
    }
    BLOCK_TYPES
        .iter()
        .map(|t| (osa_distance(&l, t), *t))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, t)| t)
}

/// The error for a fenced block whose info string is not a block type.
fn unknown_block(ctx: &Ctx, line: usize, lang: &str) -> ParseError {
    let hint = match did_you_mean(lang) {
        Some(t) => format!(" — did you mean {t}?"),
        None => String::new(),
    };
    let what = if lang.is_empty() {
        "a fenced block without a type".to_string()
    } else {
        format!("unknown block type {lang:?}")
    };
    ctx.err(
        line,
        None,
        format!(
            "{what}: a fenced block is `action`, `verify`, `checkpoint` or `note` (text shown as is){hint}"
        ),
    )
}

/// Parse one runbook. `file` names it in errors. A leading UTF-8 BOM is
/// ignored (editors on Windows write one).
pub fn parse(text: &str, file: &str) -> Result<Runbook, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ctx = Ctx { file };
    let lines = Lines::new(text);
    if !text.starts_with("+++") {
        return Err(ctx.err(
            1,
            None,
            "a runbook starts with TOML front matter between `+++` lines",
        ));
    }
    let opts =
        Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let events: Vec<(Event, Range<usize>)> =
        Parser::new_ext(text, opts).into_offset_iter().collect();

    // Front matter.
    let (meta_text, meta_line, meta_end, i) = front_matter(&ctx, &lines, &events)?;
    let meta: FrontMatter =
        toml::from_str(&meta_text).map_err(|e| toml_err(&ctx, &e, &meta_text, meta_line))?;

    // Steps: `##` headings; everything before the first is the intro.
    let mut raws: Vec<Raw> = vec![];
    let mut intro_end = text.len();
    let mut in_heading: Option<(HeadingLevel, usize)> = None;
    let mut heading_text = String::new();
    let mut heading_id: Option<String> = None;
    let mut code: Option<(String, usize, usize)> = None;
    let mut code_text = String::new();
    for (ev, r) in events.iter().skip(i + 1) {
        match ev {
            Event::Start(Tag::Heading { level, id, .. }) => {
                in_heading = Some((*level, r.start));
                heading_text.clear();
                heading_id = id.as_ref().map(|s| s.to_string());
            }
            Event::End(TagEnd::Heading(level)) => {
                let Some((_, start)) = in_heading.take() else {
                    continue;
                };
                if *level == HeadingLevel::H2 {
                    if raws.is_empty() {
                        intro_end = start;
                    }
                    if let Some(prev) = raws.last_mut() {
                        prev.body_end = start;
                    }
                    raws.push(Raw {
                        title: heading_text.trim().to_string(),
                        id: heading_id.take(),
                        line: lines.line(start),
                        body_start: r.end,
                        body_end: text.len(),
                        blocks: vec![],
                    });
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                // The first word; `checkpoint{.x}`-style attributes are not a type.
                let lang = info.split_whitespace().next().unwrap_or("").to_string();
                code = Some((lang, lines.line(r.start) + 1, r.start));
                code_text.clear();
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((lang, line, start)) = code.take() else {
                    continue;
                };
                if lang == "note" {
                    // Text shown as is: part of the step's prose.
                    continue;
                }
                if !matches!(lang.as_str(), "action" | "verify" | "checkpoint") {
                    return Err(unknown_block(&ctx, line - 1, &lang));
                }
                match raws.last_mut() {
                    Some(raw) => {
                        raw.blocks
                            .push((lang, std::mem::take(&mut code_text), line, start..r.end))
                    }
                    None => {
                        return Err(ctx.err(
                            line - 1,
                            None,
                            format!("a `{lang}` block before the first `## step` heading"),
                        ));
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading.is_some() {
                    heading_text.push_str(t);
                } else if code.is_some() {
                    code_text.push_str(t);
                }
            }
            _ => {}
        }
    }
    let intro = text
        .get(meta_end..intro_end.max(meta_end))
        .unwrap_or("")
        .trim()
        .to_string();

    let (steps, var_strings) = build_steps(&ctx, text, raws)?;
    let rb = Runbook {
        meta,
        intro,
        steps,
        origin: file.to_string(),
    };
    validate(&ctx, &rb, &meta_text, meta_line, text, &var_strings)?;
    Ok(rb)
}

/// A `##` step as found, before its block is read.
struct Raw {
    title: String,
    id: Option<String>,
    line: usize,
    body_start: usize,
    body_end: usize,
    blocks: Vec<(String, String, usize, Range<usize>)>,
}

/// The `+++` front matter: its text, first line, where it ends, and the
/// index of its event.
fn front_matter(
    ctx: &Ctx,
    lines: &Lines,
    events: &[(Event, Range<usize>)],
) -> Result<(String, usize, usize, usize), ParseError> {
    let mut meta: Option<(String, usize)> = None;
    let mut meta_end = 0;
    let mut i = 0;
    while i < events.len() {
        if let (Event::Start(Tag::MetadataBlock(MetadataBlockKind::PlusesStyle)), r) = &events[i] {
            let mut body = String::new();
            let mut j = i + 1;
            while j < events.len() {
                match &events[j].0 {
                    Event::Text(t) => body.push_str(t),
                    Event::End(TagEnd::MetadataBlock(_)) => break,
                    _ => {}
                }
                j += 1;
            }
            meta = Some((body, lines.line(r.start) + 1));
            meta_end = r.end;
            i = j;
            break;
        }
        i += 1;
    }
    let Some((meta_text, meta_line)) = meta else {
        return Err(ctx.err(
            1,
            None,
            "front matter is not closed: end it with a `+++` line",
        ));
    };
    Ok((meta_text, meta_line, meta_end, i))
}

/// Steps, and the block strings that use `${…}` with their lines.
type StepsAndVars = (Vec<Step>, Vec<(String, usize)>);

/// The steps from their raw sections: ids, prose and block; with the block
/// strings that use `${…}` and their lines (checked once all steps are known).
fn build_steps(ctx: &Ctx, text: &str, raws: Vec<Raw>) -> Result<StepsAndVars, ParseError> {
    let mut steps = Vec::with_capacity(raws.len());
    let mut seen = BTreeSet::new();
    // Block strings that use `${…}`, with their lines (checked once all steps are known).
    let mut var_strings: Vec<(String, usize)> = vec![];
    for raw in raws {
        if raw.blocks.len() > 1 {
            return Err(ctx.err(
                raw.blocks[1].2 - 1,
                None,
                format!(
                    "step {:?} has more than one action/verify/checkpoint block (one per step)",
                    raw.title
                ),
            ));
        }
        let id = raw.id.unwrap_or_else(|| slug(&raw.title));
        if id.is_empty() {
            return Err(ctx.err(raw.line, None, "a step needs a title or an {#id}"));
        }
        if !seen.insert(id.clone()) {
            return Err(ctx.err(raw.line, None, format!("duplicate step id {id:?}")));
        }
        let (block, body) = match raw.blocks.into_iter().next() {
            None => (
                Block::Prose,
                text[raw.body_start..raw.body_end].trim().to_string(),
            ),
            Some((lang, code, line, range)) => {
                let mut body = String::new();
                body.push_str(text[raw.body_start..range.start].trim());
                let after = text[range.end..raw.body_end].trim();
                if !after.is_empty() {
                    body.push_str("\n\n");
                    body.push_str(after);
                }
                let block = parse_block(ctx, &lang, &code, line)?;
                block_var_strings(&code, line, &mut var_strings);
                (block, body.trim().to_string())
            }
        };
        steps.push(Step {
            id,
            title: raw.title,
            body,
            line: raw.line,
            block,
        });
    }
    Ok((steps, var_strings))
}

/// Every string value of a block's TOML that holds `${`, with the file line
/// it is on (the first line of the block that contains it, else the block's).
fn block_var_strings(body: &str, first_line: usize, out: &mut Vec<(String, usize)>) {
    fn walk(v: &toml::Value, found: &mut Vec<String>) {
        match v {
            toml::Value::String(s) if s.contains("${") => found.push(s.clone()),
            toml::Value::Array(a) => a.iter().for_each(|x| walk(x, found)),
            toml::Value::Table(t) => t.values().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    let Ok(table) = toml::from_str::<toml::Table>(body) else {
        return;
    };
    let mut found = vec![];
    for v in table.values() {
        walk(v, &mut found);
    }
    for s in found {
        let probe: String = s[s.find("${").unwrap_or(0)..].chars().take(24).collect();
        let probe = probe.lines().next().unwrap_or("").to_string();
        let line = body
            .lines()
            .position(|l| !probe.is_empty() && l.contains(&probe))
            .map_or(first_line, |p| first_line + p);
        out.push((s, line));
    }
}

/// The 1-based line of the first line of `text` at or after `from` that contains `needle`.
fn line_containing(text: &str, from: usize, needle: &str) -> Option<usize> {
    let probe = needle.lines().next().unwrap_or("");
    if probe.is_empty() {
        return None;
    }
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(probe))
        .map(|(i, _)| i + 1)
}

/// GitHub-style heading slug.
fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if (c == ' ' || c == '-' || c == '_') && !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

fn parse_block(ctx: &Ctx, lang: &str, body: &str, line: usize) -> Result<Block, ParseError> {
    let mut table: toml::Table = toml::from_str(body).map_err(|e| toml_err(ctx, &e, body, line))?;
    let mut common = toml::Table::new();
    for k in COMMON_KEYS {
        if let Some(v) = table.remove(*k) {
            common.insert(k.to_string(), v);
        }
    }
    let at = |key: Option<&str>| {
        key.and_then(|k| key_line(body, k))
            .map(|l| line + l)
            .unwrap_or(line)
    };
    let common: Common = common.try_into().map_err(|e: toml::de::Error| {
        let msg = e.message().to_string();
        let key = field_in(&msg).or_else(|| {
            COMMON_KEYS
                .iter()
                .find(|k| msg.contains(*k))
                .map(|k| k.to_string())
        });
        ctx.err(at(key.as_deref()), key.as_deref(), msg)
    })?;
    let de_err = |e: toml::de::Error| {
        let msg = e.message().to_string();
        let mut key = field_in(&msg);
        // "unknown variant `x`": name the key whose value is x.
        if msg.starts_with("unknown variant")
            && let Some(v) = &key
            && let Some(l) = body.lines().find(|l| l.contains(&format!("\"{v}\"")))
            && let Some((k, _)) = l.split_once('=')
        {
            key = Some(k.trim().to_string());
        }
        ctx.err(at(key.as_deref()), key.as_deref(), msg)
    };
    let block = match lang {
        "action" => {
            let mut a: Action = table.try_into().map_err(de_err)?;
            a.common = common;
            check_action(ctx, &a, &at)?;
            Block::Action(Box::new(a))
        }
        "verify" => {
            let raw: VerifyRaw = table.try_into().map_err(de_err)?;
            let mut all = raw.all;
            if let Some(source) = raw.source {
                let Some(op) = raw.op else {
                    return Err(ctx.err(at(Some("source")), Some("op"), "a condition needs `op`"));
                };
                all.insert(
                    0,
                    Condition {
                        source,
                        select: raw.select,
                        filters: raw.filters,
                        agg: raw.agg,
                        op,
                        value: raw.value,
                        value_from: raw.value_from,
                        name: raw.name,
                        include_history: raw.include_history,
                        cluster: raw.cluster,
                        service: raw.service,
                        region: raw.region,
                        account: raw.account,
                    },
                );
            } else if raw.op.is_some() || raw.select.is_some() {
                return Err(ctx.err(
                    at(Some("op")),
                    Some("source"),
                    "a condition needs `source` (ecs.service, ecs.tasks, elbv2.targets, cloudwatch.alarm, autoscaling.target, ec2.service_subnets, run.impairments)",
                ));
            }
            if all.is_empty() {
                return Err(ctx.err(
                    line,
                    None,
                    "a verify block needs a condition (`source` … or `[[all]]`)",
                ));
            }
            for c in &all {
                cond::check_condition(c)
                    .map_err(|(key, msg)| ctx.err(at(Some(key)), Some(key), msg))?;
            }
            for (k, v) in [("hold", &raw.hold), ("interval", &raw.interval)] {
                check_duration(ctx, k, v.as_deref(), at(Some(k)))?;
            }
            Block::Verify(Verify {
                common,
                hold: raw.hold,
                interval: raw.interval,
                all,
            })
        }
        "checkpoint" => {
            let mut c: Checkpoint = table.try_into().map_err(de_err)?;
            c.common = common;
            if c.choices.is_empty() {
                return Err(ctx.err(at(Some("choices")), Some("choices"), "at least one choice"));
            }
            for ch in &c.choices {
                if !matches!(ch.as_str(), "continue" | "end") {
                    Flow::parse(ch).map_err(|m| {
                        ctx.err(
                            at(Some("choices")),
                            Some("choices"),
                            format!("{m} (or \"end\")"),
                        )
                    })?;
                }
            }
            Block::Checkpoint(c)
        }
        _ => unreachable!("only action/verify/checkpoint blocks are parsed"),
    };
    let c = match &block {
        Block::Action(a) => &a.common,
        Block::Verify(v) => &v.common,
        Block::Checkpoint(c) => &c.common,
        Block::Prose => unreachable!(),
    };
    check_duration(ctx, "timeout", c.timeout.as_deref(), at(Some("timeout")))?;
    if let Some(w) = &c.when {
        cond::check_op(&w.op).map_err(|m| ctx.err(at(Some("when")), Some("when"), m))?;
    }
    Ok(block)
}
