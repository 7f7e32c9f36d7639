//! Target labels on scraped series, with Prometheus's `honor_labels`
//! semantics: `false` (the default) keeps the target's `job`, `instance` and
//! static labels and moves a conflicting scraped label to `exported_<name>`
//! (`exported_exported_<name>` if that is taken too); `true` keeps the scraped
//! value and adds target labels only where the series has none.

use model::metrics::Labels;

/// `scraped` with `target`'s labels applied.
pub fn apply_target_labels(mut labels: Labels, target: &Labels, honor_labels: bool) -> Labels {
    for (name, value) in target.iter() {
        match labels.get(name) {
            None => labels.set(name, value),
            Some(_) if honor_labels => {}
            Some(existing) if existing == value => {}
            Some(existing) => {
                let existing = existing.to_string();
                let mut exported = format!("exported_{name}");
                while labels.get(&exported).is_some() || target.get(&exported).is_some() {
                    exported.insert_str(0, "exported_");
                }
                labels.set(&exported, &existing);
                labels.set(name, value);
            }
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Labels {
        Labels::from_pairs([("job", "node"), ("instance", "h:1"), ("env", "prod")])
    }

    #[test]
    fn target_labels_win_and_scraped_ones_become_exported() {
        let scraped = Labels::from_pairs([
            ("__name__", "m"),
            ("job", "pushed"),
            ("instance", "h:1"),
            ("exported_job", "older"),
            ("path", "/"),
        ]);
        let out = apply_target_labels(scraped, &target(), false);
        assert_eq!(
            out,
            Labels::from_pairs([
                ("__name__", "m"),
                ("job", "node"),
                ("instance", "h:1"),
                ("env", "prod"),
                ("exported_job", "older"),
                ("exported_exported_job", "pushed"),
                ("path", "/"),
            ])
        );
    }

    #[test]
    fn honored_labels_keep_the_scraped_values() {
        let scraped = Labels::from_pairs([("__name__", "m"), ("job", "pushed")]);
        let out = apply_target_labels(scraped, &target(), true);
        assert_eq!(
            out,
            Labels::from_pairs([
                ("__name__", "m"),
                ("job", "pushed"),
                ("instance", "h:1"),
                ("env", "prod"),
            ])
        );
    }
}
