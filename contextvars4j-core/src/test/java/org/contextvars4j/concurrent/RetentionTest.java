package org.contextvars4j.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.concurrent.ExecTestSupport.THREAD_KINDS;
import static org.contextvars4j.concurrent.ExecTestSupport.collected;
import static org.contextvars4j.concurrent.ExecTestSupport.join;
import static org.contextvars4j.concurrent.ExecTestSupport.terminate;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Nothing is kept alive by the machinery: once the work that set a large value is over (a task on
 * a wrapped pool, a stage of a {@link ContextFutures} future, a {@link Context#run}) or the value
 * was reset, the value becomes unreachable, although the threads that ran the work live on and
 * although the work read the value back and copied its context.
 *
 * <p>Each case holds only a {@link WeakReference} to an 8 MB payload made inside the work, and
 * polls the collector a bounded number of times ({@link ExecTestSupport#collected}): bounded
 * polling of the garbage collector, not sleeping to synchronise.
 */
final class RetentionTest {

  private static final ContextVar<Payload> BIG = ContextVar.named("big");
  private static final ContextVar<String> OTHER = ContextVar.named("other");

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** A large value: its retention would show on any heap, and it is easy to find in a dump. */
  static final class Payload {
    final byte[] bytes = new byte[8 << 20];
  }

  /**
   * A payload made where the work runs, tracked by a weak reference only: the test frame never
   * holds it strongly.
   */
  static final class Tracked {
    private final ReferenceQueue<Payload> queue = new ReferenceQueue<>();
    private final String what;
    private volatile WeakReference<Payload> ref;

    Tracked(String what) {
      this.what = what;
    }

    /** {@return a new payload, tracked from now on} */
    Payload make() {
      Payload payload = new Payload();
      ref = new WeakReference<>(payload, queue);
      return payload;
    }

    /** Sets {@link #BIG} to a new tracked payload and reads it back, filling the cache. */
    void setAndRead() {
      BIG.set(make());
      assertThat(BIG.get().bytes).hasSize(8 << 20);
    }

    void assertCollected() throws InterruptedException {
      assertThat(ref).as("%s made a payload", what).isNotNull();
      assertThat(collected(ref, queue))
          .as("the payload set by %s is unreachable once that is over", what)
          .isTrue();
    }
  }

  /* ---- work handed to wrapped executors and futures ---- */

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void wrappedFixedPool_taskSetAndReadALargeValue_unreachableAfterTheTask_whileThePoolLives(
      ThreadFactory factory) throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(1, factory));
    try {
      Tracked viaExecute = new Tracked("a task run by execute");
      Tracked viaSubmit = new Tracked("a task run by submit");
      CompletableFuture<Void> executed = new CompletableFuture<>();
      new Context()
          .run(
              () -> {
                OTHER.set("submitter's");
                pool.execute(
                    () -> {
                      viaExecute.setAndRead();
                      OTHER.get();
                      executed.complete(null);
                    });
              });
      join(executed);
      join(pool.submit(viaSubmit::setAndRead));
      // One more task on the same thread, which reads nothing: it must not be what frees them.
      join(pool.submit(() -> {}));

      viaExecute.assertCollected();
      viaSubmit.assertCollected();
    } finally {
      terminate(pool);
    }
  }

  @Test
  void wrappedVirtualThreadPerTaskExecutor_taskSetAndReadALargeValue_unreachableAfterTheTask()
      throws Exception {
    try (ExecutorService executor = ContextExecutors.newVirtualThreadPerTaskExecutor()) {
      Tracked tracked = new Tracked("a task on a virtual thread");
      join(executor.submit(tracked::setAndRead));

      tracked.assertCollected();
    }
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void contextFuturesStages_setAndReadLargeValues_unreachableOnceTheStagesRan(
      ThreadFactory factory) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(1, factory);
    try {
      Tracked supplier = new Tracked("the supplier of supplyAsync");
      Tracked syncStage = new Tracked("a thenApply stage");
      Tracked asyncStage = new Tracked("a thenApplyAsync stage");
      Tracked whenComplete = new Tracked("a whenComplete stage");
      CompletableFuture<String> last =
          new Context()
              .call(
                  () ->
                      ContextFutures.supplyAsync(
                              () -> {
                                supplier.setAndRead();
                                return "value";
                              },
                              pool)
                          .thenApply(
                              v -> {
                                syncStage.setAndRead();
                                return v;
                              })
                          .thenApplyAsync(
                              v -> {
                                asyncStage.setAndRead();
                                return v;
                              },
                              pool)
                          .whenComplete((v, e) -> whenComplete.setAndRead()));
      assertThat(join(last)).isEqualTo("value");

      supplier.assertCollected();
      syncStage.assertCollected();
      asyncStage.assertCollected();
      whenComplete.assertCollected();
      // The futures themselves are still reachable: they must not be what holds the values.
      Reference.reachabilityFence(last);
    } finally {
      terminate(pool);
    }
  }

  /* ---- the test thread's own runs, sets and resets ---- */

  @Test
  void contextRun_onTheTestThread_valueUnreachableOnceTheRunEnds() throws Exception {
    Tracked tracked = new Tracked("a Context.run on the test thread");

    new Context().run(tracked::setAndRead);

    tracked.assertCollected();
  }

  @Test
  void contextRun_nestedInAnotherRun_valueUnreachableOnceTheInnerRunEnds() throws Exception {
    Tracked tracked = new Tracked("a Context.run inside another one");

    new Context()
        .call(
            () -> {
              OTHER.set("outer");
              assertThat(OTHER.get()).isEqualTo("outer");
              new Context().run(tracked::setAndRead);

              tracked.assertCollected();
              assertThat(OTHER.get()).as("the outer context goes on").isEqualTo("outer");
              return null;
            });
  }

  @Test
  void submitter_setGetReset_valueUnreachableRightAfterTheReset() throws Exception {
    Tracked tracked = new Tracked("the submitter's set/get/reset, still in its context");

    new Context()
        .call(
            () -> {
              setReadAndReset(tracked, false);
              tracked.assertCollected();
              assertThat(BIG.isBound()).isFalse();
              return null;
            });
  }

  @Test
  void submitter_setGetReset_withAnotherVariableReadMeanwhile_valueUnreachableAfterTheReset()
      throws Exception {
    Tracked tracked = new Tracked("a set/get/reset with another variable read in between");

    new Context()
        .call(
            () -> {
              setReadAndReset(tracked, true);
              tracked.assertCollected();
              return null;
            });
  }

  @Test
  void submitter_setGetInTryWithResources_valueUnreachableRightAfterTheBlock() throws Exception {
    Tracked tracked = new Tracked("a token closed by try-with-resources");

    new Context()
        .call(
            () -> {
              setReadAndClose(tracked);
              tracked.assertCollected();
              return null;
            });
  }

  @Test
  void submitter_setGetReset_valueUnreachableOnceTheRunEnds() throws Exception {
    Tracked tracked = new Tracked("the submitter's set/get/reset");

    new Context().run(() -> setReadAndReset(tracked, false));

    tracked.assertCollected();
  }

  @Test
  void usedToken_stillHeld_doesNotKeepTheValueItSet() throws Exception {
    Tracked tracked = new Tracked("a set whose used token is still held");
    List<Token<Payload>> held = new ArrayList<>();

    new Context()
        .run(
            () -> {
              Token<Payload> token = BIG.set(tracked.make());
              BIG.reset(token);
              held.add(token);
            });

    tracked.assertCollected();
    assertThat(held.get(0).isUsed()).isTrue();
    assertThat(held.get(0).hasOldValue()).isFalse();
  }

  @Test
  void wrappedTask_replacesItsLargeValue_unreachableAfterTheTask() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(1));
    try {
      Tracked tracked = new Tracked("a value a task replaced by another one");
      join(
          pool.submit(
              () -> {
                tracked.setAndRead();
                BIG.set(null);
                assertThat(BIG.get()).isNull();
              }));

      tracked.assertCollected();
    } finally {
      terminate(pool);
    }
  }

  /**
   * Sets, reads and resets {@link #BIG} (reading {@link #OTHER} in between if asked), and reads
   * nothing after the reset; the token is gone when this returns.
   */
  private static void setReadAndReset(Tracked tracked, boolean readOtherMeanwhile) {
    Token<Payload> token = BIG.set(tracked.make());
    assertThat(BIG.get().bytes).hasSize(8 << 20);
    if (readOtherMeanwhile) {
      assertThat(OTHER.getOrDefault("unbound")).isEqualTo("unbound");
    }
    BIG.reset(token);
  }

  @SuppressWarnings("try")
  private static void setReadAndClose(Tracked tracked) {
    try (Token<Payload> token = BIG.set(tracked.make())) {
      assertThat(BIG.get().bytes).hasSize(8 << 20);
    }
  }

  /* ---- the base context of a pool thread ---- */

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void tokenReset_inTheBaseContextOfAPoolThread_valueUnreachableAfterTheReset(
      ThreadFactory factory) throws Exception {
    // Unwrapped: the task runs in the pool thread's own (base) context.
    ExecutorService pool = Executors.newFixedThreadPool(1, factory);
    try {
      Tracked tracked = new Tracked("a set/get/reset in a pool thread's base context");
      join(pool.submit(() -> setReadAndReset(tracked, false)));

      tracked.assertCollected();
    } finally {
      terminate(pool);
    }
  }

  /*
   * The thread's own base context never exits: only resets make its values unreachable. Each case
   * below leaves the payload in another part of the thread's state before the reset: a copy taken
   * meanwhile (the cached mapping of copies), an older slot (a later set of another variable), or
   * the frame's trie (enough later sets to fold the recent ones into it).
   */

  @Test
  void tokenReset_inTheBaseContext_afterACopyWasTaken_valueUnreachable() throws Exception {
    Tracked tracked = new Tracked("a set, a copy dropped, and a reset in the base context");
    Token<Payload> token = BIG.set(tracked.make());
    assertThat(Context.copyCurrent().get(BIG).bytes).hasSize(8 << 20);
    BIG.reset(token);

    tracked.assertCollected();
  }

  @Test
  void tokenResets_inTheBaseContext_ofAValueInAnOlderSlot_valueUnreachable() throws Exception {
    Tracked tracked = new Tracked("a set under a later set, both reset, in the base context");
    Token<Payload> big = BIG.set(tracked.make());
    Token<String> other = OTHER.set("later");
    assertThat(BIG.get().bytes).hasSize(8 << 20);
    OTHER.reset(other);
    BIG.reset(big);

    tracked.assertCollected();
  }

  @Test
  void tokenResets_inTheBaseContext_ofAValueFoldedIntoTheTrie_valueUnreachable()
      throws Exception {
    Tracked tracked = new Tracked("a set folded under later sets, all reset, in the base context");
    Deque<Token<?>> later = new ArrayDeque<>();
    Token<Payload> big = BIG.set(tracked.make());
    for (int i = 0; i < 20; i++) {
      later.push(OTHER.set("later " + i));
    }
    assertThat(BIG.get().bytes).hasSize(8 << 20);
    while (!later.isEmpty()) {
      @SuppressWarnings("unchecked")
      Token<String> token = (Token<String>) later.pop();
      OTHER.reset(token);
    }
    BIG.reset(big);

    tracked.assertCollected();
  }
}
