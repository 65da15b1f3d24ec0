//! Reads manifests — files, folders, stdin — into [`Object`]s that keep the
//! position of every field.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

use super::{Loaded, Object, Source};
use crate::diag::{Diagnostic, Pos};

/// Positions of the fields of one object, by JSON pointer.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    map: HashMap<String, Pos>,
}

impl Spans {
    /// The position of `pointer`, or of its nearest ancestor that has one.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Pos::UNKNOWN,
            }
        }
    }
}

/// Reads every input: `-` is stdin, a folder is searched recursively for
/// `*.yaml`, `*.yml` and `*.json`.
pub fn load(inputs: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    for input in inputs {
        if input == Path::new("-") {
            let mut text = String::new();
            match std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                Ok(_) => add_source(&mut loaded, Source { name: PathBuf::from("<stdin>"), text }),
                Err(e) => loaded.errors.push(Diagnostic::error("<stdin>", Pos::UNKNOWN, format!("cannot read: {e}"))),
            }
            continue;
        }
        let mut files = Vec::new();
        if let Err(e) = collect(input, &mut files) {
            loaded.errors.push(Diagnostic::error(input, Pos::UNKNOWN, format!("cannot read: {e}")));
        }
        for file in files {
            match std::fs::read(&file) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => add_source(&mut loaded, Source { name: file, text }),
                    Err(e) => loaded.errors.push(Diagnostic::error(&file, Pos::UNKNOWN, format!("not UTF-8: {e}"))),
                },
                Err(e) => loaded.errors.push(Diagnostic::error(&file, Pos::UNKNOWN, format!("cannot read: {e}"))),
            }
        }
    }
    loaded
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out)?;
        } else if matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml" | "json")) {
            out.push(e);
        }
    }
    Ok(())
}

/// Parses one source and appends its objects (or its errors).
pub fn add_source(loaded: &mut Loaded, source: Source) {
    let id = loaded.sources.len();
    match MarkedYaml::load_from_str(&source.text) {
        Ok(docs) => {
            for doc in docs {
                let mut spans = Spans::default();
                let value = convert(&doc, String::new(), &mut spans);
                match object(id, value, spans, doc_pos(&doc)) {
                    Ok(Some(o)) => loaded.objects.push(o),
                    Ok(None) => {}
                    Err(msg) => loaded.errors.push(Diagnostic::error(&source.name, doc_pos(&doc), msg)),
                }
            }
        }
        Err(e) => {
            let m = e.marker();
            let pos = Pos::new(m.line() as u32, m.col() as u32 + 1);
            loaded.errors.push(Diagnostic::error(&source.name, pos, format!("not valid YAML: {}", e.info())));
        }
    }
    loaded.sources.push(source);
}

fn doc_pos(doc: &MarkedYaml) -> Pos {
    Pos::new(doc.span.start.line() as u32, doc.span.start.col() as u32 + 1)
}

fn object(source: usize, value: Value, spans: Spans, at: Pos) -> Result<Option<Object>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let Value::Object(m) = &value else {
        return Err("a document that is not a mapping is not a Kubernetes object".into());
    };
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let api_version =
        s("apiVersion").ok_or_else(|| format!("object at {}:{} has no apiVersion", at.line, at.column))?;
    let kind = s("kind").ok_or("the object has no kind")?;
    let meta = m.get("metadata");
    let str_at = |k: &str| meta.and_then(|x| x.get(k)).and_then(Value::as_str).map(str::to_string);
    let name = str_at("name").or_else(|| str_at("generateName")).unwrap_or_default();
    let namespace = str_at("namespace");
    Ok(Some(Object { source, value, spans, api_version, kind, name, namespace }))
}

fn convert(node: &MarkedYaml, pointer: String, spans: &mut Spans) -> Value {
    spans
        .map
        .entry(pointer.clone())
        .or_insert(Pos::new(node.span.start.line() as u32, node.span.start.col() as u32 + 1));
    match &node.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Sequence(items) => Value::Array(
            items.iter().enumerate().map(|(i, item)| convert(item, format!("{pointer}/{i}"), spans)).collect(),
        ),
        YamlData::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match &k.data {
                    YamlData::Value(s) => scalar_key(s),
                    _ => continue,
                };
                let p = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                spans.map.insert(p.clone(), Pos::new(k.span.start.line() as u32, k.span.start.col() as u32 + 1));
                let value = convert(v, p, spans);
                out.insert(key, value);
            }
            Value::Object(out)
        }
        YamlData::Tagged(_, inner) => convert(inner, pointer, spans),
        _ => Value::Null,
    }
}

fn scalar_key(s: &Scalar) -> String {
    match s {
        Scalar::String(s) => s.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::FloatingPoint(f) => f.to_string(),
        Scalar::Null => "null".into(),
    }
}

fn scalar(s: &Scalar) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}
