//! Runs every rule group on its own interval until stopped, as
//! Prometheus's rule manager schedules them: the first evaluation at the
//! group's next aligned instant, then one per interval; an evaluation that
//! overruns skips the instants it missed (counted in `iterations_missed`).
//! After the second evaluation the alerts' `for` state is restored from
//! `ALERTS_FOR_STATE` (so a restart does not reset a pending alert's clock).
//! Each evaluation runs on the blocking pool; its status is published to
//! [`RuleStates`] and its alerts handed to the [`Notifiers`].

use crate::file::GroupSpec;
use crate::group::{now_ns, Group};
use crate::notify::{Notifiers, NotifyOptions, NotifyStats};
use crate::status::RuleStates;
use promql::Engine;
use std::sync::Arc;
use std::time::Duration;
use store::SeriesStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running evaluator.
pub struct RulesRunner {
    /// Latest status of every group (share it with the HTTP API).
    pub states: Arc<RuleStates>,
    /// Notification counters.
    pub notify_stats: Arc<NotifyStats>,
    tasks: Vec<JoinHandle<()>>,
}

impl RulesRunner {
    /// Starts one task per group and one per notification target. They
    /// stop when `stop` turns true; then await [`Self::join`].
    pub fn start(
        groups: Vec<GroupSpec>,
        store: Arc<dyn SeriesStore>,
        engine: Engine,
        notify: &NotifyOptions,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let groups: Vec<Group> = groups
            .into_iter()
            .map(|g| Group::new(g, &notify.external_url))
            .collect();
        let states = Arc::new(RuleStates::new(groups.iter().map(Group::status).collect()));
        let (notifiers, mut tasks) = Notifiers::start(notify, &stop);
        let notify_stats = Arc::clone(&notifiers.stats);
        let notifiers = Arc::new(notifiers);
        for group in groups {
            tasks.push(tokio::spawn(run_group(
                group,
                Arc::clone(&store),
                engine.clone(),
                Arc::clone(&states),
                Arc::clone(&notifiers),
                stop.clone(),
            )));
        }
        Self {
            states,
            notify_stats,
            tasks,
        }
    }

    /// Waits for every task to end (after `stop`).
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Sleeps until wall-clock `at_ns`; false when stopped first.
async fn sleep_until(at_ns: i64, stop: &mut watch::Receiver<bool>) -> bool {
    let wait = Duration::from_nanos(u64::try_from(at_ns - now_ns()).unwrap_or(0));
    let slept = tokio::select! {
        _ = stop.wait_for(|s| *s) => false,
        _ = tokio::time::sleep(wait) => true,
    };
    slept && !*stop.borrow()
}

async fn run_group(
    mut group: Group,
    store: Arc<dyn SeriesStore>,
    engine: Engine,
    states: Arc<RuleStates>,
    notifiers: Arc<Notifiers>,
    mut stop: watch::Receiver<bool>,
) {
    let interval = group.interval_ns();
    let mut eval_ts = group.eval_timestamp(now_ns()) + interval;
    let mut evaluations = 0u64;
    loop {
        if !sleep_until(eval_ts, &mut stop).await {
            return;
        }
        let store_for_eval = Arc::clone(&store);
        let engine_for_eval = engine.clone();
        let restore = group.should_restore && evaluations == 1;
        let joined = tokio::task::spawn_blocking(move || {
            let notifications = group.eval(store_for_eval.as_ref(), &engine_for_eval, eval_ts);
            if restore {
                group.restore_for_state(store_for_eval.as_ref(), now_ns());
            }
            (group, notifications)
        })
        .await;
        let notifications;
        (group, notifications) = match joined {
            Ok(done) => done,
            Err(e) => {
                eprintln!("whyslow: rules: a rule group's evaluation failed: {e}; its rules stop");
                return;
            }
        };
        evaluations += 1;
        states.publish(group.status());
        notifiers.send(&notifications);
        // The next instant; skip the ones an overrun missed.
        let now = now_ns();
        eval_ts += interval;
        if now - eval_ts >= interval {
            let missed = (now - eval_ts) / interval;
            group.iterations_missed += missed as u64;
            eval_ts += missed * interval;
        }
    }
}
