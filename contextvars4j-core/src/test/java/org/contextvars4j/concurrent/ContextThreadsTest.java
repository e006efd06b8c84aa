package org.contextvars4j.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.concurrent.ContextExecutorsTest.COUNTER;
import static org.contextvars4j.concurrent.ContextExecutorsTest.NAME;
import static org.contextvars4j.concurrent.ContextExecutorsTest.inNewContext;
import static org.contextvars4j.concurrent.ContextExecutorsTest.observed;
import static org.contextvars4j.concurrent.ExecTestSupport.THREAD_BUILDERS;
import static org.contextvars4j.concurrent.ExecTestSupport.TIMEOUT_SECONDS;
import static org.contextvars4j.concurrent.ExecTestSupport.await;
import static org.contextvars4j.concurrent.ExecTestSupport.meet;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tests of {@link ContextThreads}: a thread started through it, platform or virtual, runs its body
 * in a copy of the starter's context as it was when the thread was made; nothing the body sets
 * reaches the starter.
 *
 * <p>The contrast, on purpose: a thread started without the helper ({@code new Thread(...)},
 * {@code Thread.ofVirtual().start(...)}, a builder's {@code start}) sees an empty context, whatever
 * its starter had bound. Contexts are not inherited like {@link InheritableThreadLocal}s: they are
 * handed over on purpose, and only where the code says so.
 */
final class ContextThreadsTest {

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** Joins {@code thread} (bounded), failing if it does not end in time. */
  static void joinBounded(Thread thread) throws InterruptedException {
    assertThat(thread.join(Duration.ofSeconds(TIMEOUT_SECONDS)))
        .as("%s ended within %d s", thread, TIMEOUT_SECONDS)
        .isTrue();
  }

  /* ---- start ---- */

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void start_bodySeesTheStartersValuesAsOfStart_andItsSetsDoNotComeBack(
      Supplier<Thread.Builder> builders) throws Exception {
    inNewContext(
        () -> {
          NAME.set("at start");
          CountDownLatch starterSetAgain = new CountDownLatch(1);
          AtomicReference<String> seen = new AtomicReference<>();
          AtomicReference<String> afterOwnSets = new AtomicReference<>();

          Thread thread =
              ContextThreads.start(
                  builders.get(),
                  () -> {
                    try {
                      await(starterSetAgain);
                    } catch (InterruptedException e) {
                      throw new IllegalStateException(e);
                    }
                    seen.set(observed());
                    NAME.set("set by the thread");
                    COUNTER.set(1);
                    afterOwnSets.set(observed());
                  });
          NAME.set("after start");
          starterSetAgain.countDown();
          joinBounded(thread);

          assertThat(seen.get())
              .as("the thread sees the values at start, not the starter's later ones")
              .isEqualTo("at start,no counter");
          assertThat(afterOwnSets.get()).isEqualTo("set by the thread,counter=1");
          assertThat(observed())
              .as("the thread's sets stay in its copy")
              .isEqualTo("after start,no counter");
        });
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void start_keepsTheBuildersConfiguration(Supplier<Thread.Builder> builders) throws Exception {
    Thread.Builder builder = builders.get().name("context-thread");
    boolean virtual = builder.unstarted(() -> {}).isVirtual();
    AtomicReference<Thread> inside = new AtomicReference<>();

    Thread thread = ContextThreads.start(builder, () -> inside.set(Thread.currentThread()));
    joinBounded(thread);

    assertThat(inside.get()).as("the body ran on the returned thread").isSameAs(thread);
    assertThat(thread.getName()).isEqualTo("context-thread");
    assertThat(thread.isVirtual()).isEqualTo(virtual);
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void start_twoThreadsFromOneStarter_runAtOnce_eachInItsOwnCopy(
      Supplier<Thread.Builder> builders) throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          CountDownLatch bothRunning = new CountDownLatch(2);
          AtomicReference<String> first = new AtomicReference<>();
          AtomicReference<String> second = new AtomicReference<>();

          Thread a = ContextThreads.start(builders.get(), sibling("A", bothRunning, first));
          Thread b = ContextThreads.start(builders.get(), sibling("B", bothRunning, second));
          joinBounded(a);
          joinBounded(b);

          assertThat(first.get()).isEqualTo("starter's -> A");
          assertThat(second.get()).isEqualTo("starter's -> B");
          assertThat(observed()).isEqualTo("starter's,no counter");
        });
  }

  private static Runnable sibling(String own, CountDownLatch rendezvous, AtomicReference<String> out) {
    return () -> {
      String seen = NAME.get();
      NAME.set(own);
      try {
        meet(rendezvous);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      out.set(seen + " -> " + NAME.get());
    };
  }

  /* ---- unstarted ---- */

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void unstarted_capturesTheContextWhenMade_notWhenStarted(Supplier<Thread.Builder> builders)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("when made");
          AtomicReference<String> seen = new AtomicReference<>();

          Thread thread =
              ContextThreads.unstarted(
                  builders.get(),
                  () -> {
                    seen.set(observed());
                    NAME.set("set by the thread");
                  });
          assertThat(thread.getState()).isEqualTo(Thread.State.NEW);
          NAME.set("when started");
          thread.start();
          joinBounded(thread);

          assertThat(seen.get()).isEqualTo("when made,no counter");
          assertThat(observed()).isEqualTo("when started,no counter");
        });
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void unstarted_startedFromAnotherThread_stillSeesTheMakersContext(
      Supplier<Thread.Builder> builders) throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    AtomicReference<Thread> made = new AtomicReference<>();
    inNewContext(
        () -> {
          NAME.set("maker's");
          made.set(ContextThreads.unstarted(builders.get(), () -> seen.set(observed())));
        });

    // Started by a plain thread with a context of its own.
    Thread starter =
        Thread.ofPlatform()
            .start(
                () -> {
                  NAME.set("starter's");
                  made.get().start();
                });
    joinBounded(starter);
    joinBounded(made.get());

    assertThat(seen.get()).isEqualTo("maker's,no counter");
  }

  /* ---- the contrast: threads started without the helper ---- */

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void plainThread_startedWithoutTheHelper_seesAnEmptyContext(Supplier<Thread.Builder> builders)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          COUNTER.set(1);
          AtomicReference<Map<ContextVar<?>, Object>> viaBuilder = new AtomicReference<>();
          AtomicReference<Map<ContextVar<?>, Object>> viaHelper = new AtomicReference<>();

          Thread plain =
              builders.get().start(() -> viaBuilder.set(ExecTestSupport.currentMapping()));
          Thread helped =
              ContextThreads.start(
                  builders.get(), () -> viaHelper.set(ExecTestSupport.currentMapping()));
          joinBounded(plain);
          joinBounded(helped);

          assertThat(viaBuilder.get())
              .as("a thread started without the helper inherits nothing: its context is empty")
              .isEmpty();
          assertThat(viaHelper.get())
              .as("the same start through ContextThreads sees the starter's values")
              .isEqualTo(Map.of(NAME, "starter's", COUNTER, 1));
        });
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void threadStartedFromInsideAContextThread_withoutTheHelper_isEmptyAgain(
      Supplier<Thread.Builder> builders) throws Exception {
    inNewContext(
        () -> {
          NAME.set("outer");
          AtomicReference<String> grandchild = new AtomicReference<>();
          Thread child =
              ContextThreads.start(
                  builders.get(),
                  () -> {
                    Thread plain =
                        builders.get().start(() -> grandchild.set(NAME.getOrDefault("<unbound>")));
                    try {
                      joinBounded(plain);
                    } catch (InterruptedException e) {
                      throw new IllegalStateException(e);
                    }
                  });
          joinBounded(child);

          assertThat(grandchild.get())
              .as("only the helper hands the context over, one hop at a time")
              .isEqualTo("<unbound>");
        });
  }

  @Test
  void newThreadAndStartVirtualThread_withoutTheHelper_seeAnEmptyContext() throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          AtomicReference<Integer> platformSize = new AtomicReference<>();
          AtomicReference<Integer> virtualSize = new AtomicReference<>();

          Thread platform = new Thread(() -> platformSize.set(Context.copyCurrent().size()));
          platform.setDaemon(true);
          platform.start();
          Thread virtual =
              Thread.startVirtualThread(() -> virtualSize.set(Context.copyCurrent().size()));
          joinBounded(platform);
          joinBounded(virtual);

          assertThat(platformSize.get()).as("new Thread(...) starts in an empty context").isZero();
          assertThat(virtualSize.get())
              .as("Thread.startVirtualThread(...) starts in an empty context")
              .isZero();
        });
  }
}
