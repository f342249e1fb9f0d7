//! Step 5 of a run: wait for leftover tasks to finish, then count what is left.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeMetrics};
use tokio::task::Id as TaskId;

use crate::findings::{AllowRule, AllowedByRule, LeakedTask, Phase, count_allowed};
use crate::observe::spawns::{self, KNOWS_SPAWN_SITES};
use crate::observe::watchdog;
use crate::run::hang;
use crate::run::state::RunState;
use crate::tell::warnings;
use crate::util::backoff::Backoff;

/// The settle loop first yields this often, which lets tasks that are ready finish on the
/// test's own thread before any sleep.
const SETTLE_YIELDS: u32 = 8;
/// A task whose panic hook is still printing (a backtrace can take a second to symbolise) is
/// waited for past `settle`, up to this much longer, so it is not reported as a leak too.
const PANIC_HOOK_ALLOWANCE: Duration = Duration::from_secs(10);
/// After its panic hooks, a task still unwinds and ends; until this long after them it is
/// given the benefit of the doubt.
const PANIC_UNWIND_GRACE: Duration = Duration::from_millis(250);

/// The tasks a run left behind, less those it may keep.
pub(crate) struct Leftovers<'a> {
    metrics: RuntimeMetrics,
    baseline: usize,
    run: &'a RunState,
    /// Every `allow_leaks` rule; those for tasks apply here. Borrowed, not filtered into a
    /// list of its own: most tests have no rule, and an empty list still costs a test.
    rules: &'a [AllowRule],
}

impl<'a> Leftovers<'a> {
    /// Counts against the tasks alive now; the task `allow_leaks` rules of `rules` apply.
    pub(crate) fn new(run: &'a RunState, rules: &'a [AllowRule]) -> Self {
        let metrics = Handle::current().metrics();
        Leftovers {
            baseline: metrics.num_alive_tasks(),
            metrics,
            run,
            rules,
        }
    }

    fn task_rules(&self) -> impl Iterator<Item = &'a AllowRule> + Clone + use<'a> {
        self.rules.iter().filter(|rule| rule.is_for_tasks())
    }

    fn has_task_rules(&self) -> bool {
        self.task_rules().next().is_some()
    }

    /// Tasks still alive that [`crate::allow_leak`] or an `allow_leaks` rule lets go.
    fn allowed(&self) -> HashSet<TaskId> {
        let mut allowed: HashSet<TaskId> = self.run.allowed_alive().into_iter().collect();
        if self.has_task_rules() {
            let matching = self
                .run
                .spawns
                .alive()
                .into_iter()
                .filter(|task| self.task_rules().any(|rule| rule.matches(task)));
            allowed.extend(matching.map(|task| task.id));
        }
        allowed
    }

    /// How many tasks beyond the baseline are alive and not allowed to be.
    pub(crate) fn count(&self) -> usize {
        let alive = self.metrics.num_alive_tasks();
        if alive <= self.baseline {
            return 0;
        }
        (alive - self.baseline).saturating_sub(self.allowed().len())
    }

    /// The leaked tasks as far as the build knows them, with where each waits.
    pub(crate) async fn leaked(&self) -> Vec<LeakedTask> {
        let allowed = self.allowed();
        let mut tasks: Vec<LeakedTask> = self
            .run
            .spawns
            .alive()
            .into_iter()
            .filter(|task| !allowed.contains(&task.id))
            .collect();
        let ids: Vec<TaskId> = tasks.iter().map(|task| task.id).collect();
        let mut waiting = spawns::waiting_points(&ids).await;
        for task in &mut tasks {
            task.waiting_on = waiting.remove(&task.id);
        }
        tasks
    }

    /// How many of the tasks still alive each rule lets go, counted under the first rule
    /// that matches.
    pub(crate) fn allowed_by_rule(&self) -> Vec<AllowedByRule> {
        let mut allowed = Vec::new();
        if !self.has_task_rules() {
            return allowed;
        }
        for task in self.run.spawns.alive() {
            if let Some(rule) = self.task_rules().find(|rule| rule.matches(&task)) {
                count_allowed(&mut allowed, rule, 1, 0);
            }
        }
        allowed
    }

    /// Rules that matched no leftover task (stale), or could not be applied in this build.
    pub(crate) fn rule_warnings(&self, count: usize, leaked: &[LeakedTask]) -> Vec<String> {
        if !self.has_task_rules() {
            return Vec::new();
        }
        if !KNOWS_SPAWN_SITES {
            if count == 0 {
                return Vec::new();
            }
            let rules: Vec<&str> = self.task_rules().map(AllowRule::text).collect();
            return vec![warnings::rules_not_applied(&rules)];
        }
        let alive = self.run.spawns.alive();
        self.task_rules()
            .filter(|rule| !alive.iter().any(|task| rule.matches(task)))
            .map(|rule| warnings::rule_matched_nothing(rule.text(), leaked))
            .collect()
    }

    /// Once [`Leftovers::count`] has found tasks left, waits until none is left beyond the
    /// baseline (but those allowed), or until `window` has passed in real time; gives the
    /// number still left and how long it waited.
    pub(crate) async fn settle(&self, window: Duration) -> (usize, Duration) {
        let started = Instant::now();
        let deadline = started + window;
        let last_resort = deadline + PANIC_HOOK_ALLOWANCE;
        let _step = hang::step(self.run, Phase::Settle, last_resort - started, last_resort);
        let mut yields = 0;
        let mut backoff = Backoff::new();
        loop {
            let left = self.count();
            let now = Instant::now();
            let waiting_for_a_panic_hook =
                self.run.panics.any_in_flight(PANIC_UNWIND_GRACE) && now < last_resort;
            if left == 0 || (now >= deadline && !waiting_for_a_panic_hook) {
                return (left, now - started);
            }
            if yields < SETTLE_YIELDS {
                yields += 1;
                tokio::task::yield_now().await;
            } else {
                let wake = now + backoff.pause();
                let wake = if waiting_for_a_panic_hook {
                    wake
                } else {
                    wake.min(deadline)
                };
                watchdog::sleep_until(wake).await;
            }
        }
    }
}
