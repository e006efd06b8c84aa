package org.contextvars4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.context.ContextAccessor;
import io.micrometer.context.ContextExecutorService;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextScheduledExecutorService;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.Test;
import reactor.util.context.ReactorContextAccessor;

/**
 * The accessor driven by context-propagation's {@link ContextSnapshotFactory} and its executor
 * wrappers, as Spring and Micrometer drive it: capture, restore from a map or a Reactor context,
 * {@code clearMissing}, nested scopes, tasks on pooled threads, and the errors on misuse. Every
 * factory here has a registry of its own (the accessor, plus context accessors for maps and
 * Reactor's context), so nothing another test registers globally changes what these see.
 */
@SuppressWarnings("try") // a snapshot's scope is what its try block is for
class ContextSnapshotFactoryTest {
  private static final ContextVar<String> REQUEST = ContextVar.named("request");
  private static final ContextVar<String> USER = ContextVar.named("user");
  private static final ContextVar<Integer> RUNS = ContextVar.named("runs");
  private static final String KEY = ContextThreadLocalAccessor.KEY;
  private static final long TIMEOUT_SECONDS = 10;

  private static ContextRegistry registry() {
    return new ContextRegistry()
        .registerContextAccessor(new MapContextAccessor())
        .registerContextAccessor(new ReactorContextAccessor())
        .registerThreadLocalAccessor(new ContextThreadLocalAccessor());
  }

  private static ContextSnapshotFactory factory(boolean clearMissing) {
    return ContextSnapshotFactory.builder()
        .contextRegistry(registry())
        .clearMissing(clearMissing)
        .build();
  }

  /** A context, not entered anywhere, holding the given request and user. */
  private static Context contextOf(String request, String user) {
    return new Context()
        .call(
            () -> {
              REQUEST.set(request);
              USER.set(user);
              return Context.copyCurrent();
            });
  }

  private static String values() {
    return REQUEST.getOrDefault("-") + "/" + USER.getOrDefault("-");
  }

  @Test
  void captureAll_restoresTheCapturedValues_andTheScopesCloseReturnsToTheVeryContextBefore() {
    ContextSnapshotFactory factory = factory(false);
    ContextSnapshot snapshot = contextOf("r1", "alice").call(factory::captureAll);
    assertThat(snapshot.toString()).contains(KEY);

    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          try (ContextSnapshot.Scope ignored = snapshot.setThreadLocals()) {
            assertThat(values()).isEqualTo("r1/alice");
            REQUEST.set("set inside the scope");
          }
          assertThat(values()).isEqualTo("outer/bob");
          // Back in outer itself, not in a copy of it: a set now is seen in outer afterwards.
          USER.set("set after the scope");
        });
    assertThat(outer.get(USER)).isEqualTo("set after the scope");
    assertThat(outer.get(REQUEST)).as("the set inside stayed in the scope").isEqualTo("outer");
  }

  @Test
  void captureAllWithAReactorContext_aContextUnderTheKeyThereWinsOverTheThreads() {
    ContextSnapshotFactory factory = factory(false);
    reactor.util.context.Context reactorContext =
        reactor.util.context.Context.of(KEY, contextOf("from reactor", "carol"));
    ContextSnapshot snapshot =
        contextOf("from the thread", "dave").call(() -> factory.captureAll(reactorContext));
    new Context()
        .run(
            () -> {
              try (ContextSnapshot.Scope ignored = snapshot.setThreadLocals()) {
                assertThat(values()).isEqualTo("from reactor/carol");
              }
              assertThat(values()).isEqualTo("-/-");
            });
  }

  @Test
  void captureFrom_aMapOrAReactorContext_takesTheContextUnderTheKey() {
    ContextSnapshotFactory factory = factory(false);
    Context fromMap = contextOf("from a map", "erin");
    Context fromReactor = contextOf("from reactor", "frank");
    ContextSnapshot ofMap = factory.captureFrom(Map.of(KEY, fromMap, "other", "ignored"));
    ContextSnapshot ofReactor =
        factory.captureFrom(reactor.util.context.Context.of(KEY, fromReactor));
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          try (ContextSnapshot.Scope ignored = ofMap.setThreadLocals()) {
            assertThat(values()).isEqualTo("from a map/erin");
            REQUEST.set("changed in the map's copy");
          }
          try (ContextSnapshot.Scope ignored = ofReactor.setThreadLocals()) {
            assertThat(values()).isEqualTo("from reactor/frank");
          }
          assertThat(values()).isEqualTo("outer/bob");
        });
    assertThat(fromMap.get(REQUEST))
        .as("the source context is never entered")
        .isEqualTo("from a map");
  }

  @Test
  void setThreadLocalsFrom_aMapOrAReactorContext_byKeyOrAllKeys() {
    ContextSnapshotFactory factory = factory(false);
    Map<String, Object> map = Map.of(KEY, contextOf("from a map", "erin"));
    reactor.util.context.Context reactorContext =
        reactor.util.context.Context.of(KEY, contextOf("from reactor", "frank"));
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          try (ContextSnapshot.Scope ignored = factory.setThreadLocalsFrom(map, KEY)) {
            assertThat(values()).isEqualTo("from a map/erin");
          }
          assertThat(values()).isEqualTo("outer/bob");
          try (ContextSnapshot.Scope ignored = factory.setThreadLocalsFrom(reactorContext, KEY)) {
            assertThat(values()).isEqualTo("from reactor/frank");
            // No keys: every registered accessor, from the map, nested inside the first.
            try (ContextSnapshot.Scope nested = factory.setThreadLocalsFrom(map)) {
              assertThat(values()).isEqualTo("from a map/erin");
            }
            assertThat(values()).isEqualTo("from reactor/frank");
          }
          assertThat(values()).isEqualTo("outer/bob");
          REQUEST.set("after");
        });
    assertThat(outer.get(REQUEST)).as("the thread was back in outer itself").isEqualTo("after");
  }

  /**
   * {@code clearMissing(true)} with the key missing calls the accessor's {@code setValue()}: an
   * empty context inside the scope, whose sets are dropped, and outer itself again after it.
   */
  @Test
  void clearMissingTrue_andTheKeyMissing_runsTheScopeInAnEmptyContext() {
    ContextSnapshotFactory factory = factory(true);
    ContextSnapshot nothing = factory.captureFrom(Map.of("unrelated", "value"));
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          try (ContextSnapshot.Scope ignored = nothing.setThreadLocals()) {
            assertThat(Context.copyCurrent().size()).isZero();
            assertThat(REQUEST.isBound()).isFalse();
            REQUEST.set("set in the empty context");
          }
          assertThat(values()).isEqualTo("outer/bob");
          try (ContextSnapshot.Scope ignored = factory.setThreadLocalsFrom(Map.of(), KEY)) {
            assertThat(Context.copyCurrent().size()).isZero();
          }
          try (ContextSnapshot.Scope ignored =
              factory.setThreadLocalsFrom(reactor.util.context.Context.empty(), KEY)) {
            assertThat(Context.copyCurrent().size()).isZero();
          }
          assertThat(values()).isEqualTo("outer/bob");
          USER.set("after");
        });
    assertThat(outer.asMap()).isEqualTo(Map.of(REQUEST, "outer", USER, "after"));
  }

  /** {@code clearMissing(false)}, the default, with the key missing: the scope changes nothing. */
  @Test
  void clearMissingFalse_andTheKeyMissing_leavesTheCurrentContextAsItIs() {
    ContextSnapshotFactory factory = factory(false);
    ContextSnapshot nothing = factory.captureFrom(Map.of("unrelated", "value"));
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          try (ContextSnapshot.Scope ignored = nothing.setThreadLocals()) {
            assertThat(values()).isEqualTo("outer/bob");
            // No context was entered: this set is outer's.
            REQUEST.set("set in the scope");
          }
          try (ContextSnapshot.Scope ignored = factory.setThreadLocalsFrom(Map.of(), KEY)) {
            assertThat(values()).isEqualTo("set in the scope/bob");
          }
        });
    assertThat(outer.get(REQUEST)).isEqualTo("set in the scope");
  }

  /** Each scope closes back to the context of the scope around it, with the sets made there. */
  @Test
  void nestedScopesRestoreInOrder() {
    ContextSnapshotFactory factory = factory(false);
    ContextSnapshot first = contextOf("first", "u1").call(factory::captureAll);
    ContextSnapshot second = contextOf("second", "u2").call(factory::captureAll);
    ContextSnapshot third = contextOf("third", "u3").call(factory::captureAll);
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          try (ContextSnapshot.Scope s1 = first.setThreadLocals()) {
            USER.set("set in first");
            try (ContextSnapshot.Scope s2 = second.setThreadLocals()) {
              USER.set("set in second");
              try (ContextSnapshot.Scope s3 = third.setThreadLocals()) {
                assertThat(values()).isEqualTo("third/u3");
                // The same snapshot again, nested in itself: each scope has its own copy.
                try (ContextSnapshot.Scope again = third.setThreadLocals()) {
                  assertThat(values()).isEqualTo("third/u3");
                  REQUEST.set("set in the inner copy");
                }
                assertThat(values()).isEqualTo("third/u3");
              }
              assertThat(values()).isEqualTo("second/set in second");
            }
            assertThat(values()).isEqualTo("first/set in first");
          }
          assertThat(values()).isEqualTo("outer/bob");
        });
  }

  /**
   * Snapshot scopes closed out of order: the accessor ignores the previous value it is handed and
   * always leaves the context it entered last, so there is no error, and once both are closed the
   * thread is in exactly the context it was in before either.
   */
  @Test
  void scopesClosedOutOfOrder_endInExactlyTheContextBeforeBoth() {
    ContextSnapshotFactory factory = factory(false);
    ContextSnapshot first = contextOf("first", "u1").call(factory::captureAll);
    ContextSnapshot second = contextOf("second", "u2").call(factory::captureAll);
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          ContextSnapshot.Scope s1 = first.setThreadLocals();
          ContextSnapshot.Scope s2 = second.setThreadLocals();
          s1.close();
          assertThat(values()).as("last in, first out").isEqualTo("first/u1");
          s2.close();
          assertThat(values()).isEqualTo("outer/bob");
          REQUEST.set("after");
        });
    assertThat(outer.get(REQUEST)).isEqualTo("after");
  }

  /**
   * A restore while a context entered after the accessor's {@code setValue} is still open is out of
   * order: it throws, and the thread's current context is exactly what it was. On a thread of its
   * own, so the state the error leaves there dies with it.
   */
  @Test
  void aRestoreOutOfOrderThrows_andLeavesTheCurrentContextUnchanged() throws Exception {
    ContextThreadLocalAccessor accessor = new ContextThreadLocalAccessor();
    Context inner = contextOf("inner", "ivy");
    CompletableFuture<Throwable> failure = new CompletableFuture<>();
    CompletableFuture<String> after = new CompletableFuture<>();
    Thread.ofPlatform()
        .start(
            () -> {
              try {
                REQUEST.set("thread's own");
                Context before = accessor.getValue();
                accessor.setValue(contextOf("restored", "rita"));
                Context.Scope innerScope = inner.enter();
                try {
                  accessor.restore(before);
                  failure.complete(null);
                } catch (Throwable e) {
                  failure.complete(e);
                }
                String seen = values();
                USER.set("set after the error");
                innerScope.close();
                // Nothing was left: once the inner scope is closed, the restore can be retried,
                // and the thread is back where it was before setValue.
                accessor.restore(before);
                after.complete(seen + " then " + REQUEST.get());
              } catch (Throwable e) {
                failure.completeExceptionally(e);
                after.completeExceptionally(e);
              }
            });
    assertThat(failure.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed out of order");
    assertThat(after.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("inner/ivy then thread's own");
    assertThat(inner.get(USER))
        .as("the thread was still in inner")
        .isEqualTo("set after the error");
  }

  /**
   * A restore on a thread other than the one that called {@code setValue} finds nothing open there
   * and throws; it changes neither thread, and the right thread still restores afterwards.
   */
  @Test
  void aRestoreOnAnotherThreadThrows_andChangesNeitherThread() throws Exception {
    ContextThreadLocalAccessor accessor = new ContextThreadLocalAccessor();
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          Context before = accessor.getValue();
          accessor.setValue(contextOf("restored", "rita"));
          CompletableFuture<String> elsewhere = new CompletableFuture<>();
          Thread.ofPlatform()
              .start(
                  () ->
                      new Context()
                          .run(
                              () -> {
                                REQUEST.set("other thread");
                                try {
                                  accessor.restore(before);
                                  elsewhere.complete("no error");
                                } catch (IllegalStateException e) {
                                  elsewhere.complete(e.getMessage() + " -> " + values());
                                }
                              }));
          assertThat(join(elsewhere))
              .contains("No context entered by ContextThreadLocalAccessor.setValue")
              .endsWith(" -> other thread/-");
          assertThat(values()).isEqualTo("restored/rita");
          accessor.restore(before);
          assertThat(values()).isEqualTo("outer/bob");
        });
  }

  /**
   * Null where context-propagation never passes one, and a value of another type under the key:
   * refused before anything is entered, so the context is unchanged and nothing is left to restore.
   */
  @Test
  void refusedValuesEnterNothing() {
    ContextThreadLocalAccessor accessor = new ContextThreadLocalAccessor();
    ContextSnapshotFactory factory = factory(false);
    Context outer = contextOf("outer", "bob");
    outer.run(
        () -> {
          assertThatThrownBy(() -> accessor.setValue(null))
              .isInstanceOf(NullPointerException.class);
          // A map holding a string under the accessor's key: the cast in setValue fails.
          assertThatThrownBy(() -> factory.setThreadLocalsFrom(Map.of(KEY, "not a context"), KEY))
              .isInstanceOf(ClassCastException.class);
          assertThatThrownBy(() -> accessor.restore(null))
              .isInstanceOf(IllegalStateException.class)
              .hasMessageContaining("No context entered");
          assertThat(values()).isEqualTo("outer/bob");
          REQUEST.set("after");
        });
    // Nothing entered was left open (the run would throw) and every set went to outer.
    assertThat(outer.get(REQUEST)).isEqualTo("after");
  }

  /**
   * {@code ContextExecutorService.wrap}: each task runs in a copy of its submitter's context; what
   * a task sets reaches neither its submitter nor the next task on the same pool thread, and the
   * pool thread is back in its own context between tasks.
   */
  @Test
  void aWrappedExecutorService_runsEachTaskInItsSubmittersValues_andNothingLeaks()
      throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    ExecutorService wrapped = ContextExecutorService.wrap(pool, factory(false));
    try {
      Context submitter = contextOf("r1", "alice");
      String firstSaw =
          submitter.call(
              () -> {
                String saw =
                    wrapped
                        .submit(
                            () -> {
                              String had = values();
                              REQUEST.set("set by the first task");
                              USER.set("set by the first task");
                              return had;
                            })
                        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertThat(values()).as("the submitter after the task").isEqualTo("r1/alice");
                return saw;
              });
      assertThat(firstSaw).isEqualTo("r1/alice");
      String secondSaw =
          contextOf("r2", "bob")
              .call(
                  () ->
                      wrapped
                          .submit(ContextSnapshotFactoryTest::values)
                          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
      assertThat(secondSaw).isEqualTo("r2/bob");
      String fromEmpty =
          new Context()
              .call(
                  () ->
                      wrapped
                          .submit(ContextSnapshotFactoryTest::values)
                          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
      assertThat(fromEmpty).as("a submitter with nothing set").isEqualTo("-/-");
      // Unwrapped, straight on the pool thread: its own context, untouched by the tasks.
      assertThat(
              pool.submit(ContextSnapshotFactoryTest::values)
                  .get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
          .isEqualTo("-/-");

      // invokeAll and execute carry the submitter's values too.
      List<String> all =
          contextOf("r3", "carol")
              .call(
                  () -> {
                    List<String> seen = new ArrayList<>();
                    for (var future :
                        wrapped.invokeAll(
                            List.<Callable<String>>of(
                                ContextSnapshotFactoryTest::values,
                                ContextSnapshotFactoryTest::values),
                            TIMEOUT_SECONDS,
                            TimeUnit.SECONDS)) {
                      seen.add(future.get());
                    }
                    CompletableFuture<String> executed = new CompletableFuture<>();
                    wrapped.execute(() -> executed.complete(values()));
                    seen.add(join(executed));
                    return seen;
                  });
      assertThat(all).containsExactly("r3/carol", "r3/carol", "r3/carol");
    } finally {
      shutDown(wrapped);
    }
  }

  /**
   * {@code ContextScheduledExecutorService.wrap}: a delayed task sees the submitter's values; a
   * periodic task starts every run from the values captured when it was scheduled, not from what
   * the previous run set.
   */
  @Test
  void aWrappedScheduledExecutorService_startsEveryRunOfAPeriodicTaskFromTheCapturedValues()
      throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    ScheduledExecutorService wrapped =
        ContextScheduledExecutorService.wrap(scheduler, factory(false));
    try {
      String delayed =
          contextOf("r1", "alice")
              .call(
                  () ->
                      wrapped
                          .schedule(ContextSnapshotFactoryTest::values, 1, TimeUnit.MILLISECONDS)
                          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
      assertThat(delayed).isEqualTo("r1/alice");

      int runs = 5;
      CountDownLatch done = new CountDownLatch(runs);
      Queue<String> seen = new ConcurrentLinkedQueue<>();
      Context submitter = new Context();
      ScheduledFuture<?> periodic =
          submitter.call(
              () -> {
                REQUEST.set("periodic");
                RUNS.set(0);
                return wrapped.scheduleAtFixedRate(
                    () -> {
                      int before = RUNS.get();
                      seen.add(REQUEST.get() + "#" + before);
                      // Were a run's sets kept, the next run would start from them.
                      RUNS.set(before + 1);
                      REQUEST.set("set by a run");
                      done.countDown();
                    },
                    0,
                    1,
                    TimeUnit.MILLISECONDS);
              });
      assertThat(done.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("%d runs", runs).isTrue();
      periodic.cancel(false);
      assertThat(new ArrayList<>(seen))
          .hasSizeGreaterThanOrEqualTo(runs)
          .containsOnly("periodic#0");
      assertThat(submitter.get(RUNS)).as("the submitter's context").isZero();
      assertThat(submitter.get(REQUEST)).isEqualTo("periodic");
      // The scheduler thread itself is back in its own context.
      assertThat(
              scheduler
                  .submit(ContextSnapshotFactoryTest::values)
                  .get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
          .isEqualTo("-/-");
    } finally {
      shutDown(wrapped);
    }
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void shutDown(ExecutorService executor) throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * Context-propagation's reading and writing of a plain {@code Map} as a context, as its own tests
   * define one: values by key, a written map a new one.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class MapContextAccessor implements ContextAccessor<Map, Map> {
    @Override
    public Class<? extends Map> readableType() {
      return Map.class;
    }

    @Override
    public void readValues(
        Map sourceContext, Predicate<Object> keyPredicate, Map<Object, Object> readValues) {
      sourceContext.forEach(
          (key, value) -> {
            if (keyPredicate.test(key)) {
              readValues.put(key, value);
            }
          });
    }

    @Override
    public <T> T readValue(Map sourceContext, Object key) {
      return (T) sourceContext.get(key);
    }

    @Override
    public Class<? extends Map> writeableType() {
      return Map.class;
    }

    @Override
    public Map writeValues(Map<Object, Object> valuesToWrite, Map targetContext) {
      Map written = new HashMap<>(targetContext);
      written.putAll(valuesToWrite);
      return written;
    }
  }
}
