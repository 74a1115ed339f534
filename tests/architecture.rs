//! The house rules, checked on the source: imports point one way (no cycles between the crate's
//! modules, nor between sibling files of a module), the two ports never import each other, only
//! `store` runs SeaORM queries, and `providers` and `pricing` are leaves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its text before the first `#[cfg(test)]` (tests may
/// reach anywhere).
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.push((path, code));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &mut out);
    out.into_iter()
        .map(|(p, t)| (p.strip_prefix(&root).unwrap().to_path_buf(), t))
        .filter(|(p, _)| !p.starts_with("bin"))
        .collect()
}

/// The top-level module a file belongs to (`proxy/forward.rs` → `proxy`, `server.rs` →
/// `server`).
fn module_of(path: &Path) -> String {
    let first = path
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Identifiers that follow `prefix` in code (comments dropped).
fn references(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Module names in `use crate::{a, b::c}` groups, which `references` does not see.
fn grouped_crate_uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("use crate::{") {
        rest = &rest[i + "use crate::{".len()..];
        let end = rest.find("};").unwrap_or(rest.len());
        let mut depth = 0;
        let mut item = String::new();
        for c in rest[..end].chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.insert(item.trim().split("::").next().unwrap_or("").to_string());
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        out.insert(item.trim().split("::").next().unwrap_or("").to_string());
    }
    out.remove("");
    out
}

fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components; any of more than one node is a cycle.
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            if let Some(ws) = self.g.get(v) {
                for w in ws {
                    let w = w.as_str();
                    if !self.g.contains_key(w) {
                        continue;
                    }
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let l = self.low[w].min(self.low[v]);
                        self.low.insert(v, l);
                    } else if self.on.contains(w) {
                        let l = self.index[w].min(self.low[v]);
                        self.low.insert(v, l);
                    }
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources();
    let modules: BTreeSet<String> = files.iter().map(|(p, _)| module_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, code) in &files {
        let m = module_of(path);
        let entry = graph.entry(m.clone()).or_default();
        let mut refs = references(code, "crate::");
        refs.extend(grouped_crate_uses(code));
        for r in refs {
            if r != m && modules.contains(&r) {
                entry.insert(r);
            }
        }
    }
    graph.remove("lib");
    graph
}

#[test]
fn module_imports_point_one_way() {
    let graph = module_graph();
    assert!(graph.len() > 15, "parsed too few modules: {graph:?}");
    assert!(
        graph["proxy"].contains("providers"),
        "the parser sees imports"
    );
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles between modules: {found:?}");
}

#[test]
fn sibling_files_do_not_import_each_other_in_a_circle() {
    let mut by_dir: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (path, code) in sources() {
        let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
            continue;
        };
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "mod" {
            continue;
        }
        let refs = references(&code, "super::");
        by_dir
            .entry(dir.to_path_buf())
            .or_default()
            .entry(name)
            .or_default()
            .extend(refs);
    }
    for (dir, graph) in &by_dir {
        let found = cycles(graph);
        assert!(
            found.is_empty(),
            "cycles among the files of {dir:?}: {found:?}"
        );
    }
    assert!(by_dir.contains_key(Path::new("providers")));
}

#[test]
fn the_ports_never_import_each_other_and_the_leaves_stay_leaves() {
    let graph = module_graph();
    assert!(!graph["proxy"].contains("admin"), "proxy imports admin");
    assert!(!graph["admin"].contains("proxy"), "admin imports proxy");
    for leaf in ["providers", "pricing", "config"] {
        let allowed: &[&str] = match leaf {
            "pricing" => &["providers"],
            _ => &[],
        };
        let extra: Vec<_> = graph[leaf]
            .iter()
            .filter(|m| !allowed.contains(&m.as_str()))
            .collect();
        assert!(extra.is_empty(), "{leaf} imports {extra:?}");
    }
}

#[test]
fn only_store_runs_database_queries() {
    const QUERY_API: [&str; 10] = [
        "EntityTrait",
        "QueryFilter",
        "QuerySelect",
        "QueryOrder",
        "ConnectionTrait",
        "TransactionTrait",
        "ActiveModelTrait",
        "PaginatorTrait",
        "DatabaseConnection",
        "Statement::from",
    ];
    let mut offenders = Vec::new();
    for (path, code) in sources() {
        if path.starts_with("store") {
            continue;
        }
        for api in QUERY_API {
            if code.contains(api) {
                offenders.push(format!("{}: {api}", path.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SeaORM queries outside store: {offenders:?}"
    );
    // The check would see one.
    let store_uses: usize = sources()
        .iter()
        .filter(|(p, c)| p.starts_with("store") && c.contains("EntityTrait"))
        .count();
    assert!(store_uses > 3);
}
