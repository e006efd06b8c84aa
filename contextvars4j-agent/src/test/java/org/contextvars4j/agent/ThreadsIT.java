package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.contextvars4j.agent.Support.COUNTER;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.THREAD_BUILDERS;
import static org.contextvars4j.agent.Support.awaitUnchecked;
import static org.contextvars4j.agent.Support.collected;
import static org.contextvars4j.agent.Support.currentMapping;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.joinBounded;
import static org.contextvars4j.agent.Support.meet;
import static org.contextvars4j.agent.Support.name;
import static org.contextvars4j.agent.Support.observed;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.testapp.UserThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent on threads started with the JDK's own API: a thread, platform or virtual, started by
 * {@code Thread.start}, a builder, a {@code ThreadFactory}, {@code Thread.startVirtualThread},
 * runs in a copy of the starter's context as it was when {@code start()} was called; nothing its
 * body sets reaches the starter. Port of the core's {@code ContextThreadsTest}, where {@code
 * ContextThreads.start(builder, task)} is now {@code builder.start(task)}; the core's contrast
 * ("a thread started without the helper sees an empty context") is turned around: under the
 * agent, every thread started by application code carries its starter's context.
 *
 * <p>One difference on purpose with {@code ContextThreads.unstarted}: the agent takes the copy at
 * {@code start()}, not when the thread object is made, since it only sees the start.
 */
final class ThreadsIT {

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
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
              builders
                  .get()
                  .start(
                      () -> {
                        awaitUnchecked(starterSetAgain);
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
    inNewContext(
        () -> {
          NAME.set("starter's");
          Thread.Builder builder = builders.get().name("context-thread");
          boolean virtual = builder.unstarted(() -> {}).isVirtual();
          AtomicReference<Thread> inside = new AtomicReference<>();
          AtomicReference<String> seen = new AtomicReference<>();

          Thread thread =
              builder.start(
                  () -> {
                    inside.set(Thread.currentThread());
                    seen.set(name());
                  });
          joinBounded(thread);

          assertThat(inside.get()).as("the body ran on the returned thread").isSameAs(thread);
          assertThat(thread.getName()).isEqualTo("context-thread");
          assertThat(thread.isVirtual()).isEqualTo(virtual);
          assertThat(seen.get()).isEqualTo("starter's");
        });
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void start_twoThreadsFromOneStarter_runAtOnce_eachInItsOwnCopy(Supplier<Thread.Builder> builders)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          CountDownLatch bothRunning = new CountDownLatch(2);
          AtomicReference<String> first = new AtomicReference<>();
          AtomicReference<String> second = new AtomicReference<>();

          Thread a = builders.get().start(sibling("A", bothRunning, first));
          Thread b = builders.get().start(sibling("B", bothRunning, second));
          joinBounded(a);
          joinBounded(b);

          assertThat(first.get()).isEqualTo("starter's -> A");
          assertThat(second.get()).isEqualTo("starter's -> B");
          assertThat(observed()).isEqualTo("starter's,no counter");
        });
  }

  private static Runnable sibling(
      String own, CountDownLatch rendezvous, AtomicReference<String> out) {
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

  /* ---- unstarted: the copy is taken at start() ---- */

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void unstarted_theCopyIsTakenAtStart_notWhenTheThreadWasMade(Supplier<Thread.Builder> builders)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("when made");
          AtomicReference<String> seen = new AtomicReference<>();

          Thread thread =
              builders
                  .get()
                  .unstarted(
                      () -> {
                        seen.set(observed());
                        NAME.set("set by the thread");
                      });
          assertThat(thread.getState()).isEqualTo(Thread.State.NEW);
          NAME.set("when started");
          COUNTER.set(2);
          thread.start();
          COUNTER.set(3);
          joinBounded(thread);

          assertThat(seen.get()).isEqualTo("when started,counter=2");
          assertThat(observed()).isEqualTo("when started,counter=3");
        });
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void unstarted_startedFromAnotherThread_seesThatStartersContext(
      Supplier<Thread.Builder> builders) throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    AtomicReference<Thread> made = new AtomicReference<>();
    inNewContext(
        () -> {
          NAME.set("maker's");
          made.set(builders.get().unstarted(() -> seen.set(observed())));
        });

    // Started by a thread with a context of its own.
    Thread starter =
        Thread.ofPlatform()
            .start(
                () -> {
                  NAME.set("starter's");
                  made.get().start();
                });
    joinBounded(starter);
    joinBounded(made.get());

    assertThat(seen.get()).isEqualTo("starter's,no counter");
  }

  /* ---- every way of starting a thread ---- */

  /** A way to start a thread running {@code body}. */
  @FunctionalInterface
  interface Starter {
    Thread start(Runnable body);
  }

  static Stream<Named<Starter>> starters() {
    return Stream.of(
        Named.of(
            "new Thread(task).start()",
            body -> {
              Thread thread = new Thread(body);
              thread.setDaemon(true);
              thread.start();
              return thread;
            }),
        Named.of("Thread.startVirtualThread(task)", Thread::startVirtualThread),
        Named.of("Thread.ofPlatform().start(task)", body -> Thread.ofPlatform().start(body)),
        Named.of("Thread.ofVirtual().start(task)", body -> Thread.ofVirtual().start(body)),
        Named.of(
            "Thread.ofPlatform().factory().newThread(task).start()",
            body -> started(Thread.ofPlatform().daemon().factory(), body)),
        Named.of(
            "Thread.ofVirtual().factory().newThread(task).start()",
            body -> started(Thread.ofVirtual().factory(), body)),
        Named.of(
            "Executors.defaultThreadFactory().newThread(task).start()",
            body -> started(Executors.defaultThreadFactory(), body)),
        Named.of(
            "a user's ThreadFactory",
            body ->
                started(
                    task -> {
                      Thread thread = new Thread(task, "user's");
                      thread.setDaemon(true);
                      return thread;
                    },
                    body)),
        Named.of(
            "a user's Thread subclass overriding run(), calling super.run()",
            body -> {
              Thread thread = new UserThreads.CallsSuperRun(body, Support::name, () -> {});
              thread.start();
              return thread;
            }),
        Named.of(
            "a user's Thread subclass overriding run(), not calling super.run()",
            body -> {
              Thread thread = new UserThreads.OwnRun(body);
              thread.start();
              return thread;
            }),
        Named.of(
            "a user's Thread subclass that does not override run()",
            body -> {
              Thread thread = new UserThreads.NoRunOverride(body);
              thread.start();
              return thread;
            }));
  }

  private static Thread started(ThreadFactory factory, Runnable body) {
    Thread thread = factory.newThread(body);
    thread.start();
    return thread;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("starters")
  void everyWayOfStartingAThread_bodyRunsInACopyOfTheStartersContext(Starter starter)
      throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          COUNTER.set(1);
          AtomicReference<Map<ContextVar<?>, Object>> seen = new AtomicReference<>();
          AtomicReference<Map<ContextVar<?>, Object>> afterSets = new AtomicReference<>();

          Thread thread =
              starter.start(
                  () -> {
                    seen.set(currentMapping());
                    NAME.set("set by the thread");
                    COUNTER.reset(COUNTER.set(99));
                    COUNTER.set(2);
                    afterSets.set(currentMapping());
                  });
          joinBounded(thread);

          assertThat(seen.get()).isEqualTo(Map.of(NAME, "starter's", COUNTER, 1));
          assertThat(afterSets.get()).isEqualTo(Map.of(NAME, "set by the thread", COUNTER, 2));
          assertThat(currentMapping())
              .as("the starter's context is as it was")
              .isEqualTo(Map.of(NAME, "starter's", COUNTER, 1));
          if (thread instanceof UserThreads.CallsSuperRun calling) {
            assertThat(calling.seenByOwnRun)
                .as("the subclass's own run() runs in the copy too")
                .containsExactly("starter's");
          }
        });
  }

  @Test
  void threadSubclassCallingSuperRun_itsOwnSetsBeforeSuperRunAreSeenByTheTask() throws Exception {
    inNewContext(
        () -> {
          NAME.set("starter's");
          AtomicReference<String> seenByTask = new AtomicReference<>();
          UserThreads.CallsSuperRun thread =
              new UserThreads.CallsSuperRun(
                  () -> seenByTask.set(observed()),
                  Support::observed,
                  () -> COUNTER.set(5)); // in the copy the agent entered for this run
          thread.start();
          joinBounded(thread);

          assertThat(thread.seenByOwnRun).containsExactly("starter's,no counter");
          assertThat(seenByTask.get())
              .as("one copy for the whole run: the outer run() and Thread.run() share it")
              .isEqualTo("starter's,counter=5");
          assertThat(observed()).isEqualTo("starter's,no counter");
        });
  }

  @Test
  void runCalledAsAPlainMethod_isAPlainCall_thenStartRunsInACopy() throws Exception {
    inNewContext(
        () -> {
          NAME.set("caller's");
          List<String> seen = new ArrayList<>();
          Thread thread =
              new Thread(
                  () -> {
                    seen.add(Thread.currentThread().getName() + ":" + observed());
                    COUNTER.set(seen.size());
                  },
                  "the thread");

          thread.run(); // not a thread's run: on the caller, in the caller's context, as the JDK
          assertThat(observed())
              .as("a plain call's set is the caller's own")
              .isEqualTo("caller's,counter=1");
          thread.start();
          joinBounded(thread);

          assertThat(seen)
              .containsExactly(
                  Thread.currentThread().getName() + ":caller's,no counter",
                  "the thread:caller's,counter=1");
          assertThat(observed()).isEqualTo("caller's,counter=1");
        });
  }

  @Test
  void startingAThreadTwice_throwsAsTheJdkDoes_theFirstRunIsUnaffected() throws Exception {
    inNewContext(
        () -> {
          NAME.set("first start");
          CountDownLatch release = new CountDownLatch(1);
          AtomicReference<String> seen = new AtomicReference<>();
          Thread thread =
              Thread.ofPlatform()
                  .daemon()
                  .start(
                      () -> {
                        awaitUnchecked(release);
                        seen.set(name());
                      });
          NAME.set("second start");
          assertThatThrownBy(thread::start).isInstanceOf(IllegalThreadStateException.class);
          release.countDown();
          joinBounded(thread);

          assertThat(seen.get()).isEqualTo("first start");
        });
  }

  @ParameterizedTest
  @MethodSource(THREAD_BUILDERS)
  void threadStartedFromInsideAThread_carriesThatThreadsContext_hopByHop(
      Supplier<Thread.Builder> builders) throws Exception {
    inNewContext(
        () -> {
          NAME.set("outer");
          AtomicReference<String> grandchild = new AtomicReference<>();
          Thread child =
              builders
                  .get()
                  .start(
                      () -> {
                        COUNTER.set(1); // the child's own set, before it starts the grandchild
                        Thread plain = builders.get().start(() -> grandchild.set(observed()));
                        COUNTER.set(2);
                        try {
                          joinBounded(plain);
                        } catch (InterruptedException e) {
                          throw new IllegalStateException(e);
                        }
                      });
          joinBounded(child);

          assertThat(grandchild.get())
              .as("the grandchild sees the child's context as of its start")
              .isEqualTo("outer,counter=1");
          assertThat(observed()).isEqualTo("outer,no counter");
        });
  }

  @Test
  void aValueCarriedToAThread_isCollectableOnceTheThreadEnded() throws Exception {
    ContextVar<Object> big = ContextVar.named("big");
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    List<WeakReference<Object>> ref = new ArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Boolean> seenByThread = new AtomicReference<>();
    AtomicReference<Thread> thread = new AtomicReference<>();
    new Context()
        .run(
            () -> {
              Object value = new Object();
              ref.add(new WeakReference<>(value, queue));
              big.set(value);
              thread.set(
                  Thread.ofPlatform()
                      .start(
                          () -> {
                            awaitUnchecked(release);
                            seenByThread.set(big.getOrDefault(null) != null);
                          }));
            });
    release.countDown();
    joinBounded(thread.get());

    assertThat(seenByThread.get()).as("the thread saw the value").isTrue();
    thread.set(null);
    assertThat(collected(ref.get(0), queue))
        .as("nothing the agent keeps holds the value once the thread ended")
        .isTrue();
  }

  @Test
  void manyShortThreads_eachSeesItsOwnStartersValue() throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<AtomicReference<String>> seen = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    for (int i = 0; i < 200; i++) {
      int n = i;
      AtomicReference<String> out = new AtomicReference<>();
      seen.add(out);
      inNewContext(
          () -> {
            NAME.set("starter " + n);
            Thread.Builder builder = n % 2 == 0 ? Thread.ofVirtual() : Thread.ofPlatform();
            threads.add(
                builder.start(
                    () -> {
                      awaitUnchecked(go);
                      out.set(name());
                    }));
          });
    }
    go.countDown();
    for (Thread thread : threads) {
      joinBounded(thread);
    }
    for (int i = 0; i < seen.size(); i++) {
      assertThat(seen.get(i).get()).isEqualTo("starter " + i);
    }
  }
}
