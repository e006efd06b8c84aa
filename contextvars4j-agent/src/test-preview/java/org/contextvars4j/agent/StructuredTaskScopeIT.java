package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.COUNTER;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;
import static org.contextvars4j.agent.Support.await;
import static org.contextvars4j.agent.Support.currentMapping;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.meet;
import static org.contextvars4j.agent.Support.observed;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Configuration;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.contextvars4j.testapp.UserThreads;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent on {@link StructuredTaskScope} (a preview API in JDK 25): a subtask runs in a copy of
 * its owner's context as it was when {@code fork} was called. The scope starts a thread for each
 * fork, from its {@code ThreadFactory}, and the agent hands a thread a copy of the context where
 * it is started; so the owner's later sets do not reach a subtask already forked, and what a
 * subtask sets reaches neither the owner nor its siblings. Shown with the scope's default thread
 * factory (virtual threads) and with factories of the application's own given through {@code
 * open(joiner, cfg -> cfg.withThreadFactory(...))}: platform threads, named virtual threads, and
 * a {@code Thread} subclass. Each subtask reports the thread it ran on, so that every case also
 * proves the factory it names made that thread.
 *
 * <p>Every assertion on a value fails if propagation is wrong: without the agent a subtask's
 * thread starts empty and reads {@code <unbound>}; if the subtask shared the owner's context
 * instead of a copy, it would read the owner's later values, and the owner and the siblings its
 * sets. The owner sets its values again after forking and only then lets the subtasks read, so
 * that a copy taken late, or none taken, shows.
 *
 * <p>{@link #manyScopes_randomForksAndSets_eachSubtaskSeesItsForksContextAndNoOneElses} runs many
 * scopes from several owner threads at once, with random choices from a seed printed when it
 * starts (replay the choices with {@code -Dcv4j.seed=N}; {@code -Dcv4j.sts.scopes=N} changes the
 * number of scopes).
 *
 * <p>Every wait is bounded: a scope is opened with a timeout of {@link Support#TIMEOUT_SECONDS},
 * so that {@code join()} throws rather than hangs, and subtasks wait on latches with the same
 * bound; nothing sleeps to synchronise. Built and run on JDK 25 only, with preview enabled (see
 * the module's pom).
 */
final class StructuredTaskScopeIT {

  /** The seed of the random test's choices: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static final int SCOPES = Integer.getInteger("cv4j.sts.scopes", 400);

  /** How many threads open scopes at once in the random test. */
  private static final int OWNERS = 4;

  /** The bound on the random test's whole run; far above what it takes. */
  private static final long RUN_TIMEOUT_SECONDS = 120;

  /** How many failure descriptions the random test keeps for its message. */
  private static final int DESCRIPTIONS_KEPT = 10;

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /**
   * How a scope makes the threads of its forks: a change to the default configuration, and how to
   * tell that a thread is one of them.
   */
  record Forks(UnaryOperator<Configuration> configure, Predicate<Thread> madeIt) {

    /** Opens a scope with this configuration, and a timeout so that {@code join()} is bounded. */
    <T, R> StructuredTaskScope<T, R> open(Joiner<? super T, ? extends R> joiner) {
      return StructuredTaskScope.open(
          joiner,
          configuration ->
              configure.apply(configuration).withTimeout(Duration.ofSeconds(TIMEOUT_SECONDS)));
    }
  }

  /** Where the {@code @MethodSource} of fork-kind parameterised tests points. */
  static final String FORKS = "org.contextvars4j.agent.StructuredTaskScopeIT#forks";

  /** {@return the scope's default factory and three factories of the application's own} */
  static Stream<Named<Forks>> forks() {
    return Stream.of(
        Named.of(
            "default (virtual threads)",
            new Forks(configuration -> configuration, Thread::isVirtual)),
        Named.of(
            "platform-thread factory",
            new Forks(
                configuration ->
                    configuration.withThreadFactory(
                        // Daemon: a thread stuck by a bug must not keep the test JVM alive.
                        Thread.ofPlatform().daemon().name("sts-platform-", 0).factory()),
                thread -> !thread.isVirtual() && thread.getName().startsWith("sts-platform-"))),
        Named.of(
            "virtual-thread factory",
            new Forks(
                configuration ->
                    configuration.withThreadFactory(
                        Thread.ofVirtual().name("sts-virtual-", 0).factory()),
                thread -> thread.isVirtual() && thread.getName().startsWith("sts-virtual-"))),
        Named.of(
            "factory of a Thread subclass",
            new Forks(
                configuration -> configuration.withThreadFactory(UserThreads.OwnRun::new),
                thread -> thread instanceof UserThreads.OwnRun)));
  }

  /** What a subtask saw: its thread, the values at its start, and after its own sets. */
  record Report(Thread thread, String seen, String afterOwnSets) {}

  /* ---- one fork ---- */

  @ParameterizedTest
  @MethodSource(FORKS)
  void fork_subtaskSeesTheOwnersValuesAsOfFork_andItsSetsDoNotComeBack(Forks forks)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("at fork");
          CountDownLatch ownerSetAgain = new CountDownLatch(1);
          Subtask<Report> subtask;
          try (StructuredTaskScope<Report, Void> scope =
              forks.open(Joiner.awaitAllSuccessfulOrThrow())) {
            subtask =
                scope.fork(
                    () -> {
                      await(ownerSetAgain);
                      String seen = observed();
                      NAME.set("set by the subtask");
                      COUNTER.set(1);
                      return new Report(Thread.currentThread(), seen, observed());
                    });
            NAME.set("after fork");
            COUNTER.set(7);
            ownerSetAgain.countDown();
            scope.join();
          }
          Report report = subtask.get();

          assertThat(report.thread()).as("made by the scope's factory").matches(forks.madeIt());
          assertThat(report.seen())
              .as("the subtask sees the values at fork, not the owner's later ones")
              .isEqualTo("at fork,no counter");
          assertThat(report.afterOwnSets()).isEqualTo("set by the subtask,counter=1");
          assertThat(observed())
              .as("the subtask's sets stay in its copy")
              .isEqualTo("after fork,counter=7");
        });
  }

  @Test
  void openWithNoArguments_subtaskSeesTheOwnersValues() throws Exception {
    // The plainest use: the default joiner and configuration. Each subtask's only wait is bounded.
    inNewContext(
        () -> {
          NAME.set("owner's");
          COUNTER.set(1);
          Subtask<String> subtask;
          try (StructuredTaskScope<Object, Void> scope = StructuredTaskScope.open()) {
            subtask =
                scope.fork(
                    () -> {
                      String seen = observed();
                      COUNTER.set(2);
                      return seen;
                    });
            scope.join();
          }

          assertThat(subtask.get()).isEqualTo("owner's,counter=1");
          assertThat(observed()).isEqualTo("owner's,counter=1");
        });
  }

  /* ---- several forks ---- */

  @ParameterizedTest
  @MethodSource(FORKS)
  void fork_siblingsRunAtOnce_eachInItsOwnCopy(Forks forks) throws Exception {
    inNewContext(
        () -> {
          NAME.set("owner's");
          int siblings = 3;
          // Every sibling has made its sets before any reads them back: in one shared context,
          // all would read the last one's.
          CountDownLatch allSet = new CountDownLatch(siblings);
          List<Report> reports;
          try (StructuredTaskScope<Report, Stream<Subtask<Report>>> scope =
              forks.open(Joiner.allSuccessfulOrThrow())) {
            for (int i = 0; i < siblings; i++) {
              int own = i;
              scope.fork(
                  () -> {
                    String seen = observed();
                    NAME.set("sibling " + own);
                    COUNTER.set(own);
                    meet(allSet);
                    return new Report(Thread.currentThread(), seen, observed());
                  });
            }
            reports = scope.join().map(Subtask::get).toList();
          }

          assertThat(reports).extracting(Report::thread).allMatch(forks.madeIt());
          assertThat(reports)
              .extracting(report -> report.seen() + " -> " + report.afterOwnSets())
              .as("in fork order: each saw the owner's values, then only its own sets")
              .containsExactly(
                  "owner's,no counter -> sibling 0,counter=0",
                  "owner's,no counter -> sibling 1,counter=1",
                  "owner's,no counter -> sibling 2,counter=2");
          assertThat(observed()).isEqualTo("owner's,no counter");
        });
  }

  @ParameterizedTest
  @MethodSource(FORKS)
  void eachFork_copiesTheContextAsOfItsOwnFork(Forks forks) throws Exception {
    inNewContext(
        () -> {
          CountDownLatch ownerDone = new CountDownLatch(1);
          List<String> seen;
          try (StructuredTaskScope<String, Stream<Subtask<String>>> scope =
              forks.open(Joiner.allSuccessfulOrThrow())) {
            NAME.set("first");
            scope.fork(() -> readAfter(ownerDone));
            NAME.set("second");
            Token<Integer> counted = COUNTER.set(2);
            scope.fork(() -> readAfter(ownerDone));
            COUNTER.reset(counted);
            scope.fork(() -> readAfter(ownerDone));
            NAME.set("after the forks");
            ownerDone.countDown();
            seen = scope.join().map(Subtask::get).toList();
          }

          assertThat(seen)
              .as("a reset between forks is carried like a set")
              .containsExactly("first,no counter", "second,counter=2", "second,no counter");
          assertThat(observed()).isEqualTo("after the forks,no counter");
        });
  }

  private static String readAfter(CountDownLatch ownerDone) throws InterruptedException {
    await(ownerDone);
    return observed();
  }

  @ParameterizedTest
  @MethodSource(FORKS)
  void nestedScope_aSubtasksForksSeeItsContextAsOfTheirFork_hopByHop(Forks forks)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("outer");
          Subtask<List<String>> child;
          try (StructuredTaskScope<List<String>, Void> scope =
              forks.open(Joiner.awaitAllSuccessfulOrThrow())) {
            child =
                scope.fork(
                    () -> {
                      COUNTER.set(1); // the subtask's own set, before it forks the grandchild
                      CountDownLatch childSetAgain = new CountDownLatch(1);
                      Subtask<String> grandchild;
                      try (StructuredTaskScope<String, Void> inner =
                          forks.open(Joiner.awaitAllSuccessfulOrThrow())) {
                        grandchild =
                            inner.fork(
                                () -> {
                                  String seen = readAfter(childSetAgain);
                                  NAME.set("set by the grandchild");
                                  return seen;
                                });
                        COUNTER.set(2);
                        childSetAgain.countDown();
                        inner.join();
                      }
                      return List.of(grandchild.get(), observed());
                    });
            NAME.set("outer after fork");
            scope.join();
          }

          assertThat(child.get())
              .as("the grandchild sees the subtask's context as of its fork; its sets stay its own")
              .containsExactly("outer,counter=1", "outer,counter=2");
          assertThat(observed()).isEqualTo("outer after fork,no counter");
        });
  }

  /* ---- the other joiners ---- */

  @ParameterizedTest
  @MethodSource(FORKS)
  void anySuccessfulResultOrThrow_theResultIsComputedInTheForksCopy(Forks forks)
      throws Exception {
    inNewContext(
        () -> {
          String result;
          try (StructuredTaskScope<String, String> scope =
              forks.open(Joiner.anySuccessfulResultOrThrow())) {
            NAME.set("at the failing fork");
            scope.fork(
                () -> {
                  throw new IllegalStateException("fails on purpose");
                });
            NAME.set("at the succeeding fork");
            scope.fork(
                () -> {
                  String seen = observed();
                  NAME.set("set by the subtask");
                  return seen;
                });
            NAME.set("after the forks");
            result = scope.join();
          }

          assertThat(result).isEqualTo("at the succeeding fork,no counter");
          assertThat(observed()).isEqualTo("after the forks,no counter");
        });
  }

  @ParameterizedTest
  @MethodSource(FORKS)
  void awaitAll_aFailingAndASucceedingSubtask_eachSawItsFork(Forks forks) throws Exception {
    inNewContext(
        () -> {
          Subtask<String> failing;
          Subtask<String> succeeding;
          try (StructuredTaskScope<String, Void> scope = forks.open(Joiner.awaitAll())) {
            NAME.set("at the failing fork");
            failing =
                scope.fork(
                    () -> {
                      throw new IllegalStateException("saw " + observed());
                    });
            COUNTER.set(3);
            succeeding = scope.fork(Support::observed);
            NAME.set("after the forks");
            scope.join();
          }

          assertThat(failing.state()).isEqualTo(Subtask.State.FAILED);
          assertThat(failing.exception()).hasMessage("saw at the failing fork,no counter");
          assertThat(succeeding.get()).isEqualTo("at the failing fork,counter=3");
          assertThat(observed()).isEqualTo("after the forks,counter=3");
        });
  }

  @ParameterizedTest
  @MethodSource(FORKS)
  void allUntil_cancelledOnTheFirstSuccess_thatSubtaskSawItsFork(Forks forks) throws Exception {
    inNewContext(
        () -> {
          // Never opened: the second subtask waits until the scope is cancelled and interrupts it.
          CountDownLatch never = new CountDownLatch(1);
          List<Subtask<String>> subtasks;
          try (StructuredTaskScope<String, Stream<Subtask<String>>> scope =
              forks.open(
                  Joiner.<String>allUntil(
                      subtask -> subtask.state() == Subtask.State.SUCCESS))) {
            NAME.set("at the first fork");
            scope.fork(Support::observed);
            NAME.set("at the second fork");
            scope.fork(() -> readAfter(never));
            NAME.set("after the forks");
            subtasks = scope.join().toList();
          }

          assertThat(subtasks).hasSize(2);
          assertThat(subtasks.get(0).get()).isEqualTo("at the first fork,no counter");
          assertThat(subtasks.get(1).state())
              .as("cancelled before it completed")
              .isEqualTo(Subtask.State.UNAVAILABLE);
          assertThat(observed()).isEqualTo("after the forks,no counter");
        });
  }

  /* ---- many scopes at once, random ---- */

  /**
   * What one subtask of the random test saw: its thread; the mapping at its start (after its
   * owner had set again); after its own sets, once every sibling had made theirs; and, when it
   * forked a grandchild, the mapping it forked it in, what the grandchild saw, and its own mapping
   * after the grandchild's sets.
   */
  record Seen(
      Thread thread,
      Map<ContextVar<?>, Object> atStart,
      Map<ContextVar<?>, Object> afterSiblingsSet,
      @Nullable Map<ContextVar<?>, Object> atNestedFork,
      @Nullable Map<ContextVar<?>, Object> grandchild,
      @Nullable Map<ContextVar<?>, Object> afterGrandchild) {}

  /** A variable of the random test only: each scope's owner binds its scope's number. */
  private static final ContextVar<Integer> SCOPE = ContextVar.named("scope");

  @Test
  void manyScopes_randomForksAndSets_eachSubtaskSeesItsForksContextAndNoOneElses()
      throws Exception {
    System.out.printf(
        "StructuredTaskScopeIT: seed %d (replay with -Dcv4j.seed=%d), %d scopes on %d threads%n",
        SEED, SEED, SCOPES, OWNERS);
    List<Forks> kinds = forks().map(Named::getPayload).toList();
    SplittableRandom master = new SplittableRandom(SEED);
    Queue<String> failures = new ConcurrentLinkedQueue<>();
    Queue<Throwable> thrown = new ConcurrentLinkedQueue<>();
    AtomicInteger subtasksChecked = new AtomicInteger();
    AtomicInteger grandchildrenChecked = new AtomicInteger();
    List<Thread> owners = new ArrayList<>();
    for (int o = 0; o < OWNERS; o++) {
      int first = o;
      SplittableRandom random = master.split();
      owners.add(
          Thread.ofPlatform()
              .daemon()
              .name("sts-owner-" + o)
              .start(
                  () -> {
                    for (int scope = first; scope < SCOPES; scope += OWNERS) {
                      try {
                        randomScope(scope, random.split(), kinds, failures)
                            .forEach(
                                seen -> {
                                  subtasksChecked.incrementAndGet();
                                  if (seen.grandchild() != null) {
                                    grandchildrenChecked.incrementAndGet();
                                  }
                                });
                      } catch (Throwable t) {
                        thrown.add(t);
                        failures.add("scope " + scope + " threw " + t);
                      }
                    }
                  }));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(RUN_TIMEOUT_SECONDS).toNanos();
    for (Thread owner : owners) {
      long left = Math.max(deadline - System.nanoTime(), 1_000_000);
      assertThat(owner.join(Duration.ofNanos(left)))
          .as("seed %d: %s ended within %d s", SEED, owner, RUN_TIMEOUT_SECONDS)
          .isTrue();
    }
    System.out.printf(
        "StructuredTaskScopeIT: %d subtasks and %d grandchildren checked, %d failures%n",
        subtasksChecked.get(), grandchildrenChecked.get(), failures.size());

    if (!thrown.isEmpty()) {
      AssertionError error =
          new AssertionError(
              "seed " + SEED + ": a scope threw; first failures: " + firstOf(failures));
      thrown.forEach(error::addSuppressed);
      throw error;
    }
    assertThat(failures.size())
        .as("seed %d: what did not match; first ones: %s", SEED, firstOf(failures))
        .isZero();
    assertThat(subtasksChecked.get()).as("seed %d", SEED).isGreaterThanOrEqualTo(SCOPES);
    assertThat(grandchildrenChecked.get())
        .as("seed %d: some subtasks forked a grandchild", SEED)
        .isPositive();
  }

  private static List<String> firstOf(Queue<String> failures) {
    return failures.stream().limit(DESCRIPTIONS_KEPT).toList();
  }

  /**
   * One scope of the random test, on its owner's thread, in a new context: the owner binds the
   * scope's number, then forks 1 to 6 subtasks, before each one changing its values at random
   * (a set, or a reset of an earlier set); after the last fork it sets again, then lets the
   * subtasks read. Each subtask sets its own values and waits for its siblings to have set theirs
   * before reading them back; one in four forks a grandchild from a nested scope, in the same way.
   *
   * @return what the subtasks saw, once checked; what did not match is added to {@code failures}
   */
  private static List<Seen> randomScope(
      int scope, SplittableRandom random, List<Forks> kinds, Queue<String> failures)
      throws Exception {
    Forks forks = kinds.get(random.nextInt(kinds.size()));
    int count = 1 + random.nextInt(6);
    List<Seen> seen = new ArrayList<>();
    inNewContext(
        () -> {
          SCOPE.set(scope);
          Deque<Token<?>> tokens = new ArrayDeque<>();
          CountDownLatch ownerDone = new CountDownLatch(1);
          CountDownLatch allSet = new CountDownLatch(count);
          List<Map<ContextVar<?>, Object>> atFork = new ArrayList<>();
          List<Boolean> nested = new ArrayList<>();
          List<Subtask<Seen>> subtasks = new ArrayList<>();
          Map<ContextVar<?>, Object> ownerBeforeJoin;
          try (StructuredTaskScope<Seen, Void> sts =
              forks.open(Joiner.awaitAllSuccessfulOrThrow())) {
            for (int f = 0; f < count; f++) {
              changeAtRandom(random, tokens, scope + "/before fork " + f);
              int own = f;
              boolean nests = random.nextInt(4) == 0;
              atFork.add(currentMapping());
              nested.add(nests);
              subtasks.add(
                  sts.fork(() -> randomSubtask(scope, own, nests, forks, ownerDone, allSet)));
            }
            // What no subtask may see: changed after every fork, before any subtask reads.
            changeAtRandom(random, tokens, scope + "/after the forks");
            NAME.set(scope + "/after the forks, again");
            ownerBeforeJoin = currentMapping();
            ownerDone.countDown();
            sts.join();
          }

          Map<ContextVar<?>, Object> ownerAfter = currentMapping();
          if (!ownerAfter.equals(ownerBeforeJoin)) {
            failures.add(
                "scope %d: the owner's context changed from %s to %s"
                    .formatted(scope, ownerBeforeJoin, ownerAfter));
          }
          for (int f = 0; f < count; f++) {
            Seen s = subtasks.get(f).get();
            seen.add(s);
            String where = "scope %d (%s), subtask %d".formatted(scope, s.thread(), f);
            Map<ContextVar<?>, Object> expectedAfter =
                with(atFork.get(f), NAME, scope + "/subtask " + f, COUNTER, f);
            checkThat(failures, where, "the thread", forks.madeIt().test(s.thread()), s.thread());
            check(failures, where, "at start", atFork.get(f), s.atStart());
            check(failures, where, "after the siblings' sets", expectedAfter, s.afterSiblingsSet());
            if (nested.get(f)) {
              Map<ContextVar<?>, Object> atNestedFork = with(expectedAfter, COUNTER, -f);
              check(failures, where, "at the nested fork", atNestedFork, s.atNestedFork());
              check(failures, where, "the grandchild", atNestedFork, s.grandchild());
              check(
                  failures,
                  where,
                  "after the grandchild",
                  with(atNestedFork, COUNTER, -f - 100),
                  s.afterGrandchild());
            } else {
              check(failures, where, "no grandchild", null, s.grandchild());
            }
          }
        });
    return seen;
  }

  /** The owner's random change: set a variable (keeping its token), or reset the last set. */
  private static void changeAtRandom(
      SplittableRandom random, Deque<Token<?>> tokens, String value) {
    switch (random.nextInt(4)) {
      case 0 -> tokens.push(NAME.set(value));
      case 1 -> tokens.push(COUNTER.set(random.nextInt(1_000)));
      case 2 -> {
        if (!tokens.isEmpty()) {
          reset(tokens.pop());
        }
      }
      default -> {} // no change: two forks in a row from the same values
    }
  }

  private static <T> void reset(Token<T> token) {
    token.var().reset(token);
  }

  /** A subtask of the random test; see {@link Seen}. */
  private static Seen randomSubtask(
      int scope,
      int own,
      boolean nests,
      Forks forks,
      CountDownLatch ownerDone,
      CountDownLatch allSet)
      throws Exception {
    await(ownerDone);
    Map<ContextVar<?>, Object> atStart = currentMapping();
    NAME.set(scope + "/subtask " + own);
    COUNTER.set(own);
    meet(allSet);
    Map<ContextVar<?>, Object> afterSiblingsSet = currentMapping();
    if (!nests) {
      return new Seen(Thread.currentThread(), atStart, afterSiblingsSet, null, null, null);
    }
    COUNTER.set(-own);
    Map<ContextVar<?>, Object> atNestedFork = currentMapping();
    CountDownLatch setAgain = new CountDownLatch(1);
    Subtask<Map<ContextVar<?>, Object>> grandchild;
    try (StructuredTaskScope<Map<ContextVar<?>, Object>, Void> inner =
        forks.open(Joiner.awaitAllSuccessfulOrThrow())) {
      grandchild =
          inner.fork(
              () -> {
                await(setAgain);
                Map<ContextVar<?>, Object> seen = currentMapping();
                NAME.set("set by the grandchild");
                return seen;
              });
      COUNTER.set(-own - 100);
      setAgain.countDown();
      inner.join();
    }
    return new Seen(
        Thread.currentThread(),
        atStart,
        afterSiblingsSet,
        atNestedFork,
        grandchild.get(),
        currentMapping());
  }

  private static Map<ContextVar<?>, Object> with(
      Map<ContextVar<?>, Object> base, ContextVar<?> var, Object value) {
    Map<ContextVar<?>, Object> result = new HashMap<>(base);
    result.put(var, value);
    return Map.copyOf(result);
  }

  private static Map<ContextVar<?>, Object> with(
      Map<ContextVar<?>, Object> base,
      ContextVar<?> var,
      Object value,
      ContextVar<?> other,
      Object otherValue) {
    return with(with(base, var, value), other, otherValue);
  }

  private static void checkThat(
      Queue<String> failures, String where, String what, boolean holds, Object about) {
    if (!holds) {
      failures.add("%s: %s: not as expected: %s".formatted(where, what, about));
    }
  }

  private static void check(
      Queue<String> failures,
      String where,
      String what,
      @Nullable Object expected,
      @Nullable Object actual) {
    if (!Objects.equals(expected, actual)) {
      failures.add("%s: %s: expected %s, saw %s".formatted(where, what, expected, actual));
    }
  }
}
