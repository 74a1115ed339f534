//! Model addressing for the unified API: which providers and models a request's model name
//! stands for under a client key (`provider/model`, a model route, the providers whose model
//! list has the name, or the key's only provider), and the order a route's targets are tried
//! in. Pure logic over plain data; the snapshot supplies the facts through [`Directory`].

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a model route orders its targets. Whatever the strategy, every reachable target is
/// tried in turn until one answers: the strategy only chooses the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteStrategy {
    /// Always the first target listed; the others in order when it fails.
    FirstAvailable,
    /// Each request starts one target further along the list.
    RoundRobin,
    /// A random target first, then the ones after it.
    Random,
    /// A target drawn at random in proportion to its weight first, then the others in order.
    Weighted,
}

impl RouteStrategy {
    pub const ALL: [RouteStrategy; 4] = [
        RouteStrategy::FirstAvailable,
        RouteStrategy::RoundRobin,
        RouteStrategy::Random,
        RouteStrategy::Weighted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RouteStrategy::FirstAvailable => "first_available",
            RouteStrategy::RoundRobin => "round_robin",
            RouteStrategy::Random => "random",
            RouteStrategy::Weighted => "weighted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One target of a route: a provider (by name) and the model to ask it for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTarget {
    pub provider: String,
    pub model: String,
    /// Share of first picks under [`RouteStrategy::Weighted`] (1 to [`MAX_WEIGHT`]).
    pub weight: u32,
}

/// Most targets one route may list.
pub const MAX_TARGETS: usize = 20;
/// Largest weight of one target.
pub const MAX_WEIGHT: u32 = 1000;

/// A route as configured: in the database (`/api/model-routes`) or the config file
/// (`[[redirect]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub name: String,
    pub strategy: RouteStrategy,
    pub targets: Vec<RouteTarget>,
}

/// A bare model name that stands for one or more `provider/model` targets.
#[derive(Debug)]
pub struct ModelRoute {
    pub name: String,
    pub strategy: RouteStrategy,
    pub targets: Vec<RouteTarget>,
    /// Loaded from the config file (`[[redirect]]`): read-only in the API.
    pub from_config: bool,
    /// Round-robin position; carried over when the snapshot is rebuilt.
    pub cursor: Arc<AtomicU64>,
}

/// One target as stored (a member of a route's JSON `targets`) and shown in the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredTarget {
    /// `provider/model`.
    pub target: String,
    pub weight: u32,
}

impl RouteTarget {
    pub fn stored(&self) -> StoredTarget {
        StoredTarget {
            target: format!("{}/{}", self.provider, self.model),
            weight: self.weight,
        }
    }
}

/// Reads and checks stored targets.
pub fn targets_from(stored: &[StoredTarget]) -> Result<Vec<RouteTarget>, String> {
    let targets = stored
        .iter()
        .map(|t| {
            parse_target(&t.target).map(|(provider, model)| RouteTarget {
                provider,
                model,
                weight: t.weight,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_targets(&targets)?;
    Ok(targets)
}

/// Reads a stored route's JSON `targets`.
pub fn targets_from_json(json: &str) -> Result<Vec<RouteTarget>, String> {
    let stored: Vec<StoredTarget> =
        serde_json::from_str(json).map_err(|e| format!("targets are not valid JSON: {e}"))?;
    targets_from(&stored)
}

/// A route's targets as stored (JSON).
pub fn targets_to_json(targets: &[RouteTarget]) -> String {
    let stored: Vec<StoredTarget> = targets.iter().map(RouteTarget::stored).collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

/// The config file's `[[redirect]]`s as routes; the error names the redirect and what is wrong.
pub fn redirects_from_config(
    redirects: &[crate::config::RedirectConfig],
) -> Result<Vec<RouteSpec>, String> {
    use crate::config::{RedirectTarget, RedirectTargets};
    let mut out: Vec<RouteSpec> = Vec::new();
    for (i, r) in redirects.iter().enumerate() {
        let at = format!("redirect[{i}] (from = {:?})", r.from);
        check_route_name(&r.from).map_err(|why| format!("{at}: `from` {why}"))?;
        if out.iter().any(|o| o.name == r.from) {
            return Err(format!("{at}: `from` is given twice"));
        }
        let strategy = match r.strategy.as_deref() {
            None => RouteStrategy::FirstAvailable,
            Some(s) => RouteStrategy::parse(s).ok_or_else(|| {
                format!("{at}: `strategy` must be first_available, round_robin, random or weighted")
            })?,
        };
        let stored: Vec<StoredTarget> = match &r.to {
            RedirectTargets::One(t) => vec![StoredTarget {
                target: t.clone(),
                weight: 1,
            }],
            RedirectTargets::Many(list) => list
                .iter()
                .map(|t| match t {
                    RedirectTarget::Name(t) => StoredTarget {
                        target: t.clone(),
                        weight: 1,
                    },
                    RedirectTarget::Weighted { target, weight } => StoredTarget {
                        target: target.clone(),
                        weight: *weight,
                    },
                })
                .collect(),
        };
        let targets = targets_from(&stored).map_err(|why| format!("{at}: `to` {why}"))?;
        out.push(RouteSpec {
            name: r.from.clone(),
            strategy,
            targets,
        });
    }
    Ok(out)
}

/// Parses `provider/model`: the provider is everything before the first `/`, the model all
/// after it (it may hold slashes of its own: `openrouter/meta-llama/llama-3.1-70b`).
pub fn parse_target(s: &str) -> Result<(String, String), String> {
    let s = s.trim();
    match s.split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() && !s.chars().any(char::is_whitespace) => {
            Ok((p.to_string(), m.to_string()))
        }
        _ => Err(format!(
            "`{s}` is not `provider/model` (a provider name, a slash, a model name; no blanks)"
        )),
    }
}

/// A route name: 1 to 128 characters, no blanks or control characters.
pub fn check_route_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err("must have 1 to 128 characters".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain blanks or control characters".into());
    }
    Ok(())
}

/// Checks a route's targets: 1 to [`MAX_TARGETS`], each weight 1 to [`MAX_WEIGHT`], no target
/// listed twice. Returns the message for the API or the config error.
pub fn check_targets(targets: &[RouteTarget]) -> Result<(), String> {
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return Err(format!("must list 1 to {MAX_TARGETS} targets"));
    }
    for (i, t) in targets.iter().enumerate() {
        if !(1..=MAX_WEIGHT).contains(&t.weight) {
            return Err(format!("weight must be between 1 and {MAX_WEIGHT}"));
        }
        if targets[..i]
            .iter()
            .any(|o| o.provider == t.provider && o.model == t.model)
        {
            return Err(format!("lists `{}/{}` twice", t.provider, t.model));
        }
    }
    Ok(())
}

/// The order in which `n` reachable targets are tried: the strategy's first pick, then the
/// others. `weights` has one entry per target; `cursor` is the route's round-robin count and
/// `draw` a random number (both supplied by the caller, so this stays deterministic).
pub fn order(strategy: RouteStrategy, weights: &[u32], cursor: u64, draw: u64) -> Vec<usize> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let rotate = |start: usize| (0..n).map(|i| (start + i) % n).collect::<Vec<_>>();
    match strategy {
        RouteStrategy::FirstAvailable => (0..n).collect(),
        RouteStrategy::RoundRobin => rotate((cursor % n as u64) as usize),
        RouteStrategy::Random => rotate((draw % n as u64) as usize),
        RouteStrategy::Weighted => {
            let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
            let first = if total == 0 {
                0
            } else {
                let mut ticket = draw % total;
                let mut chosen = n - 1;
                for (i, w) in weights.iter().enumerate() {
                    let w = u64::from(*w);
                    if ticket < w {
                        chosen = i;
                        break;
                    }
                    ticket -= w;
                }
                chosen
            };
            std::iter::once(first)
                .chain((0..n).filter(|i| *i != first))
                .collect()
        }
    }
}

/// What the router needs to know; the snapshot implements it.
pub trait Directory {
    /// The provider of that name.
    fn provider_id(&self, name: &str) -> Option<i64>;
    /// The route of that name.
    fn route(&self, name: &str) -> Option<&ModelRoute>;
    /// Whether the provider's cached model list has the model.
    fn lists_model(&self, provider_id: i64, model: &str) -> bool;
}

/// One place a request may go: a provider and the model to ask it for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'m> {
    pub provider_id: i64,
    pub model: Cow<'m, str>,
}

/// How the model name was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `provider/model`.
    Prefix,
    /// The named model route (or config redirect).
    Route(String),
    /// The providers whose model list has the name.
    ModelList,
    /// The key reaches one provider: the name goes to it as written.
    OnlyProvider,
}

/// Where a request goes: targets in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution<'m> {
    pub via: Via,
    pub targets: Vec<Target<'m>>,
}

/// Why a model name leads nowhere for this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// No provider prefix, route or model list knows the name, and the key reaches several
    /// providers.
    UnknownModel,
    /// The route exists but none of its targets is a provider the key reaches.
    RouteUnreachable,
}

/// Resolves `model` for a key that reaches the providers `reach` (in the key's order):
/// 1. `provider/model` when the part before the first `/` names a provider the key reaches;
/// 2. a model route of that name (its targets the key reaches, in the strategy's order);
/// 3. the key's providers whose model list has the name (in the key's order);
/// 4. the key's only provider, with the name as written;
/// 5. otherwise nothing.
pub fn resolve<'m, D: Directory>(
    model: &'m str,
    reach: &[i64],
    dir: &D,
) -> Result<Resolution<'m>, Unresolved> {
    if let Some((prefix, rest)) = model.split_once('/') {
        if let Some(id) = dir.provider_id(prefix).filter(|id| reach.contains(id)) {
            if !rest.is_empty() {
                return Ok(Resolution {
                    via: Via::Prefix,
                    targets: vec![Target {
                        provider_id: id,
                        model: Cow::Borrowed(rest),
                    }],
                });
            }
        }
    }
    if let Some(route) = dir.route(model) {
        let reachable: Vec<(i64, &RouteTarget)> = route
            .targets
            .iter()
            .filter_map(|t| {
                dir.provider_id(&t.provider)
                    .filter(|id| reach.contains(id))
                    .map(|id| (id, t))
            })
            .collect();
        if reachable.is_empty() {
            return Err(Unresolved::RouteUnreachable);
        }
        let weights: Vec<u32> = reachable.iter().map(|(_, t)| t.weight).collect();
        let cursor = match route.strategy {
            RouteStrategy::RoundRobin => route.cursor.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        let draw = match route.strategy {
            RouteStrategy::Random | RouteStrategy::Weighted => rand::random(),
            _ => 0,
        };
        let targets = order(route.strategy, &weights, cursor, draw)
            .into_iter()
            .map(|i| Target {
                provider_id: reachable[i].0,
                model: Cow::Owned(reachable[i].1.model.clone()),
            })
            .collect();
        return Ok(Resolution {
            via: Via::Route(route.name.clone()),
            targets,
        });
    }
    let listing: Vec<Target<'m>> = reach
        .iter()
        .filter(|id| dir.lists_model(**id, model))
        .map(|id| Target {
            provider_id: *id,
            model: Cow::Borrowed(model),
        })
        .collect();
    if !listing.is_empty() {
        return Ok(Resolution {
            via: Via::ModelList,
            targets: listing,
        });
    }
    match reach {
        [only] => Ok(Resolution {
            via: Via::OnlyProvider,
            targets: vec![Target {
                provider_id: *only,
                model: Cow::Borrowed(model),
            }],
        }),
        _ => Err(Unresolved::UnknownModel),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Dir {
        providers: HashMap<String, i64>,
        routes: HashMap<String, ModelRoute>,
        lists: HashMap<i64, Vec<String>>,
    }

    impl Directory for Dir {
        fn provider_id(&self, name: &str) -> Option<i64> {
            self.providers.get(name).copied()
        }
        fn route(&self, name: &str) -> Option<&ModelRoute> {
            self.routes.get(name)
        }
        fn lists_model(&self, provider_id: i64, model: &str) -> bool {
            self.lists
                .get(&provider_id)
                .is_some_and(|l| l.iter().any(|m| m == model))
        }
    }

    fn target(s: &str, weight: u32) -> RouteTarget {
        let (provider, model) = parse_target(s).unwrap();
        RouteTarget {
            provider,
            model,
            weight,
        }
    }

    fn route(name: &str, strategy: RouteStrategy, targets: &[(&str, u32)]) -> ModelRoute {
        ModelRoute {
            name: name.into(),
            strategy,
            targets: targets.iter().map(|(t, w)| target(t, *w)).collect(),
            from_config: false,
            cursor: Arc::default(),
        }
    }

    /// openai = 1, anthropic = 2, gemini = 3, openrouter = 4, vllm = 5.
    fn dir() -> Dir {
        let mut d = Dir::default();
        for (name, id) in [
            ("openai", 1),
            ("anthropic", 2),
            ("gemini", 3),
            ("openrouter", 4),
            ("vllm", 5),
        ] {
            d.providers.insert(name.into(), id);
        }
        d.lists.insert(1, vec!["gpt-4o".into(), "shared".into()]);
        d.lists
            .insert(3, vec!["gemini-2.5-flash".into(), "shared".into()]);
        d.lists.insert(5, vec!["meta-llama/Llama-3.1-8B".into()]);
        d.routes.insert(
            "fast".into(),
            route(
                "fast",
                RouteStrategy::FirstAvailable,
                &[("anthropic/claude-haiku-4-5", 1), ("openai/gpt-4o-mini", 1)],
            ),
        );
        d
    }

    fn providers_and_models(r: &Resolution<'_>) -> Vec<(i64, String)> {
        r.targets
            .iter()
            .map(|t| (t.provider_id, t.model.to_string()))
            .collect()
    }

    #[test]
    fn provider_prefix_takes_only_the_first_segment() {
        let d = dir();
        let r = resolve("anthropic/claude-sonnet-4-5", &[1, 2], &d).unwrap();
        assert_eq!(r.via, Via::Prefix);
        assert_eq!(providers_and_models(&r), [(2, "claude-sonnet-4-5".into())]);
        let r = resolve("openrouter/meta-llama/llama-3.1-70b", &[4], &d).unwrap();
        assert_eq!(
            providers_and_models(&r),
            [(4, "meta-llama/llama-3.1-70b".into())]
        );
        // A model of its own with a slash, on a provider whose list has it.
        let r = resolve("meta-llama/Llama-3.1-8B", &[1, 5], &d).unwrap();
        assert_eq!(r.via, Via::ModelList);
        assert_eq!(
            providers_and_models(&r),
            [(5, "meta-llama/Llama-3.1-8B".into())]
        );
        // The same name through the key's only provider, untouched.
        let r = resolve("meta-llama/Llama-3.1-8B", &[5], &d).unwrap();
        assert_eq!(
            providers_and_models(&r),
            [(5, "meta-llama/Llama-3.1-8B".into())]
        );
        // A prefix naming a provider the key does not reach is a model name like any other.
        assert_eq!(
            resolve("gemini/gemini-2.5-flash", &[1, 2], &d),
            Err(Unresolved::UnknownModel)
        );
        let r = resolve("gemini/gemini-2.5-flash", &[1], &d).unwrap();
        assert_eq!(r.via, Via::OnlyProvider);
        assert_eq!(
            providers_and_models(&r),
            [(1, "gemini/gemini-2.5-flash".into())]
        );
        // `provider/` with nothing after names no model.
        assert_eq!(
            resolve("openai/", &[1, 2], &d),
            Err(Unresolved::UnknownModel)
        );
    }

    #[test]
    fn routes_keep_the_targets_the_key_reaches() {
        let d = dir();
        let r = resolve("fast", &[1, 2], &d).unwrap();
        assert_eq!(r.via, Via::Route("fast".into()));
        assert_eq!(
            providers_and_models(&r),
            [(2, "claude-haiku-4-5".into()), (1, "gpt-4o-mini".into())]
        );
        let r = resolve("fast", &[1], &d).unwrap();
        assert_eq!(providers_and_models(&r), [(1, "gpt-4o-mini".into())]);
        assert_eq!(resolve("fast", &[3], &d), Err(Unresolved::RouteUnreachable));
        // A provider prefix wins over a route of the same name.
        let mut d = dir();
        d.routes.insert(
            "openai/gpt-4o".into(),
            route(
                "openai/gpt-4o",
                RouteStrategy::FirstAvailable,
                &[("anthropic/x", 1)],
            ),
        );
        let r = resolve("openai/gpt-4o", &[1, 2], &d).unwrap();
        assert_eq!(r.via, Via::Prefix);
    }

    #[test]
    fn bare_names_go_to_the_providers_that_list_them() {
        let d = dir();
        let r = resolve("shared", &[3, 1, 2], &d).unwrap();
        assert_eq!(r.via, Via::ModelList);
        assert_eq!(
            providers_and_models(&r),
            [(3, "shared".into()), (1, "shared".into())]
        );
        assert_eq!(
            resolve("unknown", &[1, 2], &d),
            Err(Unresolved::UnknownModel)
        );
        let r = resolve("unknown", &[2], &d).unwrap();
        assert_eq!(r.via, Via::OnlyProvider);
        assert!(matches!(r.targets[0].model, Cow::Borrowed(_)));
    }

    #[test]
    fn round_robin_routes_take_turns() {
        let mut d = dir();
        d.routes.insert(
            "rr".into(),
            route(
                "rr",
                RouteStrategy::RoundRobin,
                &[("openai/a", 1), ("anthropic/b", 1), ("gemini/c", 1)],
            ),
        );
        let firsts: Vec<String> = (0..6)
            .map(|_| {
                resolve("rr", &[1, 2, 3], &d).unwrap().targets[0]
                    .model
                    .to_string()
            })
            .collect();
        assert_eq!(firsts, ["a", "b", "c", "a", "b", "c"]);
        let all = resolve("rr", &[1, 2, 3], &d).unwrap();
        assert_eq!(all.targets.len(), 3, "every target is still tried");
    }

    #[test]
    fn orders_by_strategy() {
        use RouteStrategy::*;
        assert_eq!(order(FirstAvailable, &[1, 1, 1], 7, 9), [0, 1, 2]);
        assert_eq!(order(RoundRobin, &[1, 1, 1], 4, 0), [1, 2, 0]);
        assert_eq!(order(Random, &[1, 1, 1], 0, 5), [2, 0, 1]);
        assert_eq!(order(Weighted, &[1, 3], 0, 0), [0, 1]);
        assert_eq!(order(Weighted, &[1, 3], 0, 1), [1, 0]);
        assert_eq!(order(Weighted, &[1, 3], 0, 3), [1, 0]);
        assert!(order(Weighted, &[], 0, 3).is_empty());
        // Every order is a permutation.
        for s in RouteStrategy::ALL {
            for draw in 0..50u64 {
                let mut o = order(s, &[5, 1, 2, 7], draw, draw * 31);
                o.sort_unstable();
                assert_eq!(o, [0, 1, 2, 3], "{s:?}");
            }
        }
    }

    #[test]
    fn weighted_firsts_follow_the_weights() {
        let weights = [1u32, 3, 6];
        let mut counts = [0u32; 3];
        for draw in 0..10_000u64 {
            counts[order(
                RouteStrategy::Weighted,
                &weights,
                0,
                draw.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            )[0]] += 1;
        }
        for (c, w) in counts.iter().zip(weights) {
            let want = 10_000.0 * f64::from(w) / 10.0;
            assert!((f64::from(*c) - want).abs() < want * 0.1, "{counts:?}");
        }
    }

    #[test]
    fn names_and_targets_are_checked() {
        assert_eq!(
            parse_target("openrouter/meta-llama/x").unwrap(),
            ("openrouter".into(), "meta-llama/x".into())
        );
        for bad in ["", "gpt-4o", "/x", "x/", "a b/c"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        assert!(check_route_name("fast").is_ok());
        assert!(check_route_name("").is_err());
        assert!(check_route_name("a b").is_err());
        assert!(check_route_name(&"x".repeat(129)).is_err());
        assert!(check_targets(&[target("a/b", 1)]).is_ok());
        assert!(check_targets(&[]).is_err());
        assert!(check_targets(&[target("a/b", 0)]).is_err());
        assert!(check_targets(&[target("a/b", 1001)]).is_err());
        assert!(check_targets(&[target("a/b", 1), target("a/b", 2)]).is_err());
        for s in RouteStrategy::ALL {
            assert_eq!(RouteStrategy::parse(s.as_str()), Some(s));
        }
        let json = targets_to_json(&[target("openrouter/meta-llama/x", 3), target("a/b", 1)]);
        assert_eq!(
            json,
            r#"[{"target":"openrouter/meta-llama/x","weight":3},{"target":"a/b","weight":1}]"#
        );
        assert_eq!(targets_from_json(&json).unwrap()[0].model, "meta-llama/x");
        assert!(targets_from_json("[]").is_err());
        assert!(targets_from_json(r#"[{"target":"nope","weight":1}]"#).is_err());
        assert_eq!(RouteStrategy::parse("best"), None);
    }

    #[test]
    fn config_redirects_become_routes_or_name_what_is_wrong() {
        use crate::config::{RedirectConfig, RedirectTarget, RedirectTargets};
        let r = |from: &str, to: RedirectTargets, strategy: Option<&str>| RedirectConfig {
            from: from.into(),
            to,
            strategy: strategy.map(str::to_string),
        };
        let routes = redirects_from_config(&[
            r(
                "claude",
                RedirectTargets::One("anthropic/claude-sonnet-4-5".into()),
                None,
            ),
            r(
                "balanced",
                RedirectTargets::Many(vec![
                    RedirectTarget::Weighted {
                        target: "openai/gpt-4o".into(),
                        weight: 3,
                    },
                    RedirectTarget::Name("openrouter/meta-llama/llama-3.1-70b".into()),
                ]),
                Some("weighted"),
            ),
        ])
        .unwrap();
        assert_eq!(routes[0].strategy, RouteStrategy::FirstAvailable);
        assert_eq!(routes[0].targets[0].model, "claude-sonnet-4-5");
        assert_eq!(routes[1].strategy, RouteStrategy::Weighted);
        assert_eq!(routes[1].targets[0].weight, 3);
        assert_eq!(routes[1].targets[1].provider, "openrouter");
        assert_eq!(routes[1].targets[1].model, "meta-llama/llama-3.1-70b");
        for (bad, why) in [
            (r("a b", RedirectTargets::One("x/y".into()), None), "`from`"),
            (r("a", RedirectTargets::One("nope".into()), None), "`to`"),
            (
                r("a", RedirectTargets::One("x/y".into()), Some("best")),
                "`strategy`",
            ),
            (r("a", RedirectTargets::Many(vec![]), None), "`to`"),
        ] {
            let e = redirects_from_config(&[bad]).unwrap_err();
            assert!(e.contains(why) && e.contains("redirect[0]"), "{e}");
        }
        let twice = redirects_from_config(&[
            r("a", RedirectTargets::One("x/y".into()), None),
            r("a", RedirectTargets::One("x/z".into()), None),
        ])
        .unwrap_err();
        assert!(
            twice.contains("redirect[1]") && twice.contains("twice"),
            "{twice}"
        );
    }
}
