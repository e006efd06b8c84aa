package org.contextvars4j.log4j2;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AsyncAppender;
import org.apache.logging.log4j.core.config.AppenderRef;
import org.apache.logging.log4j.core.lookup.ContextMapLookup;
import org.apache.logging.log4j.util.StringMap;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.contextvars4j.concurrent.ContextThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real log4j-core, writing through {@link CapturingAppender}s with {@code %X}, {@code %mdc} and
 * {@code ${ctx:...}} patterns: the {@link ThreadContext} follows the {@link Context} through
 * contextvars4j's executors, futures and threads, and every line shows the values of the request
 * that logged it. Nothing configures the map: the dependency alone activates it.
 *
 * <p>The load test's random choices come from a seed, printed when it starts and named in its
 * failures; replay them (the scheduling itself cannot be replayed) with {@snippet lang = shell :
 * mvn -pl contextvars4j-log4j2 test -Dtest=Log4jEndToEndTest -Dcv4j.seed=1234567
 * }
 */
final class Log4jEndToEndTest {

  /** The seed of every random choice: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static final int REQUESTS = 2_000;
  private static final int POOL_THREADS = 4;
  /** Lines each request logs; see {@link #request}. */
  private static final int LINES_PER_REQUEST = 7;

  private static final long TIMEOUT_SECONDS = CapturingAppender.TIMEOUT_SECONDS;

  @AfterEach
  void testThreadContextIsEmpty() {
    assertThat(ThreadContext.isEmpty())
        .as("the test left nothing in the test thread's ThreadContext")
        .isTrue();
  }

  /* ---- load: 2,000 concurrent requests through every hop ---- */

  @Test
  void concurrentRequests_everyLineShowsItsOwnRequestId() throws Exception {
    System.out.println(
        "Log4jEndToEndTest seed: " + SEED + " (replay the choices with -Dcv4j.seed=" + SEED + ")");
    SplittableRandom random = new SplittableRandom(SEED);
    ExecutorService rawRequestPool = Executors.newFixedThreadPool(POOL_THREADS);
    ExecutorService requestPool = ContextExecutors.wrap(rawRequestPool);
    ExecutorService workerPool = ContextExecutors.wrap(Executors.newFixedThreadPool(POOL_THREADS));
    // Not wrapped: only the ContextFutures stage carries the context onto it.
    ExecutorService plainPool = Executors.newFixedThreadPool(2);
    Queue<String> leaks = new ConcurrentLinkedQueue<>();
    try (CapturingAppender capture =
        CapturingAppender.attach("e2e.load", "%X{request_id}|%X{hop}|%X{user}|%m")) {
      Logger log = capture.logger();
      List<CompletableFuture<Void>> requests = new ArrayList<>(REQUESTS);
      String[] users = new String[REQUESTS];
      for (int i = 0; i < REQUESTS; i++) {
        String id = "req-" + i;
        // Seeded choices: some requests add a second key, some yield mid-way.
        String user = random.nextInt(3) == 0 ? "user-" + i : null;
        users[i] = user;
        boolean yield = random.nextBoolean();
        CompletableFuture<Void> done = new CompletableFuture<>();
        requests.add(done);
        requestPool.execute(
            () -> {
              try {
                request(log, id, user, yield, workerPool, plainPool, leaks)
                    .whenComplete((ok, failure) -> complete(done, failure));
              } catch (Throwable failure) {
                done.completeExceptionally(failure);
              }
            });
      }
      for (CompletableFuture<Void> request : requests) {
        request.get(TIMEOUT_SECONDS, SECONDS);
      }

      List<String> lines = capture.lines();
      List<String> wrong = new ArrayList<>();
      for (String line : lines) {
        if (!lineIsRight(line, users)) {
          wrong.add(line);
        }
      }
      assertThat(leaks).as("seed %d: what a task saw of another's ThreadContext", SEED).isEmpty();
      assertThat(lines).as("seed %d", SEED).hasSize(REQUESTS * LINES_PER_REQUEST);
      assertThat(wrong)
          .as("seed %d: lines with a wrong or missing id, of %d", SEED, lines.size())
          .isEmpty();
      assertPoolThreadsAreClean(rawRequestPool);
    } finally {
      requestPool.shutdownNow();
      workerPool.shutdownNow();
      plainPool.shutdownNow();
    }
  }

  /**
   * One request: it puts its id (and maybe a user) in the ThreadContext on a request thread, and
   * logs there, in a task submitted to a wrapped pool, in a ContextFutures chain (one stage on an
   * unwrapped pool), on a virtual thread started by ContextThreads, and in the chain's last stage.
   * Every hop puts a "hop" key that must stay in the hop. 7 lines.
   */
  private static CompletableFuture<Void> request(
      Logger log,
      String id,
      String user,
      boolean yield,
      ExecutorService workerPool,
      ExecutorService plainPool,
      Queue<String> leaks) {
    expect(ThreadContext.isEmpty(), leaks, id + " started on a pooled thread with " + ThreadContext.getContext());
    ThreadContext.put("request_id", id);
    if (user != null) {
      ThreadContext.put("user", user);
    }
    log.info("{} accepted", id);

    CompletableFuture<Void> submitted = new CompletableFuture<>();
    workerPool.execute(
        () -> {
          try {
            hop(id, user, "submitted", leaks);
            log.info("{} submitted", id);
          } finally {
            submitted.complete(null);
          }
        });
    if (yield) {
      Thread.yield();
    }
    CompletableFuture<Void> chain =
        ContextFutures.supplyAsync(
                () -> {
                  hop(id, user, "supplyAsync", leaks);
                  log.info("{} supplyAsync", id);
                  return id;
                },
                workerPool)
            .thenApplyAsync(
                x -> {
                  hop(id, user, "thenApplyAsync", leaks);
                  log.info("{} thenApplyAsync", id);
                  return x;
                },
                plainPool)
            .thenCompose(
                x -> {
                  CompletableFuture<String> started = new CompletableFuture<>();
                  ContextThreads.start(
                      Thread.ofVirtual(),
                      () -> {
                        hop(id, user, "virtual", leaks);
                        log.info("{} virtual", id);
                        started.complete(x);
                      });
                  return started;
                })
            .thenAccept(
                x -> {
                  // Runs on the virtual thread, in the stage's own copy: no "hop" of the thread.
                  expectOwn(id, user, null, leaks, "done");
                  log.info("{} done", id);
                });
    log.info("{} handed off", id);
    return CompletableFuture.allOf(submitted, chain);
  }

  /** At the start of a hop: the request's own values and nothing else; then the hop's own key. */
  private static void hop(String id, String user, String hop, Queue<String> leaks) {
    expectOwn(id, user, null, leaks, hop);
    ThreadContext.put("hop", hop);
  }

  private static void expectOwn(
      String id, String user, String hop, Queue<String> leaks, String where) {
    String seen = ThreadContext.get("request_id") + "/" + ThreadContext.get("user") + "/" + ThreadContext.get("hop");
    String expected = id + "/" + user + "/" + hop;
    expect(seen.equals(expected), leaks, where + ": expected " + expected + ", saw " + seen);
  }

  private static void expect(boolean ok, Queue<String> leaks, String message) {
    if (!ok) {
      leaks.add(message);
    }
  }

  private static void complete(CompletableFuture<Void> done, Throwable failure) {
    if (failure == null) {
      done.complete(null);
    } else {
      done.completeExceptionally(failure);
    }
  }

  /**
   * A line {@code request_id|hop|user|<id> <step>} is right when its keys are those of the request
   * and the step its message names.
   */
  private static boolean lineIsRight(String line, String[] users) {
    String[] parts = line.split("\\|", -1);
    if (parts.length != 4) {
      return false;
    }
    String[] message = parts[3].split(" ");
    String id = message[0];
    String step = message[1];
    boolean hopStep =
        step.equals("submitted")
            || step.equals("supplyAsync")
            || step.equals("thenApplyAsync")
            || step.equals("virtual");
    String expectedHop = hopStep ? step : "";
    String user = users[Integer.parseInt(id.substring("req-".length()))];
    return parts[0].equals(id)
        && parts[1].equals(expectedHop)
        && parts[2].equals(user == null ? "" : user);
  }

  /** Each thread of the unwrapped pool, outside any task's copy, has an empty ThreadContext. */
  private static void assertPoolThreadsAreClean(ExecutorService rawPool) throws Exception {
    CyclicBarrier all = new CyclicBarrier(POOL_THREADS);
    List<Future<Boolean>> empty = new ArrayList<>();
    for (int i = 0; i < POOL_THREADS; i++) {
      empty.add(
          rawPool.submit(
              () -> {
                all.await(TIMEOUT_SECONDS, SECONDS); // one task per thread
                return ThreadContext.isEmpty();
              }));
    }
    for (Future<Boolean> isEmpty : empty) {
      assertThat(isEmpty.get(TIMEOUT_SECONDS, SECONDS))
          .as("a pooled thread's own ThreadContext after 2,000 tasks")
          .isTrue();
    }
  }

  /* ---- one hop at a time ---- */

  @Test
  void aTasksPut_isSeenByNeitherTheSubmitterNorTheNextTaskOnThatThread() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try (CapturingAppender capture = CapturingAppender.attach("e2e.task", "%X{request_id}|%m")) {
      Logger log = capture.logger();
      new Context()
          .call(
              () -> {
                ThreadContext.put("request_id", "submitter");
                pool.submit(
                        () -> {
                          ThreadContext.put("request_id", "task-1");
                          log.info("first task");
                        })
                    .get(TIMEOUT_SECONDS, SECONDS);
                pool.submit(() -> log.info("next task")).get(TIMEOUT_SECONDS, SECONDS);
                log.info("submitter");
                return null;
              });

      assertThat(capture.lines())
          .containsExactly("task-1|first task", "submitter|next task", "submitter|submitter");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void copyCurrent_carriesTheThreadContextAndPlainContextVars_together() throws Exception {
    ContextVar<String> user = ContextVar.named("user");
    ExecutorService plain = Executors.newSingleThreadExecutor();
    try (CapturingAppender capture = CapturingAppender.attach("e2e.copy", "%X{request_id}|%m")) {
      Logger log = capture.logger();
      new Context()
          .call(
              () -> {
                ThreadContext.put("request_id", "r-1");
                user.set("alice");
                Context snapshot = Context.copyCurrent();
                ThreadContext.put("request_id", "r-2");
                user.set("bob");

                // On an unwrapped thread: only the snapshot carries the values there.
                plain.submit(() -> snapshot.run(() -> log.info("user={}", user.get())))
                    .get(TIMEOUT_SECONDS, SECONDS);
                log.info("user={}", user.get());
                return null;
              });

      assertThat(capture.lines()).containsExactly("r-1|user=alice", "r-2|user=bob");
    } finally {
      plain.shutdownNow();
    }
  }

  @Test
  void newContext_seesAnEmptyThreadContext() {
    try (CapturingAppender capture = CapturingAppender.attach("e2e.fresh", "[%X{request_id}]%mdc|%m")) {
      Logger log = capture.logger();
      Context.copyCurrent()
          .run(
              () -> {
                ThreadContext.put("request_id", "r-1");
                new Context().run(() -> log.info("fresh"));
                log.info("outer");
              });

      assertThat(capture.lines()).containsExactly("[]{}|fresh", "[r-1]{request_id=r-1}|outer");
    }
  }

  @Test
  void mdcPattern_printsTheWholeMap_inKeyOrder_asLog4jsOwnMapsDo() {
    try (CapturingAppender capture = CapturingAppender.attach("e2e.mdc", "%mdc|%X{b}|%X{a,b}")) {
      Context.copyCurrent()
          .run(
              () -> {
                ThreadContext.put("c", "3");
                ThreadContext.put("a", "1");
                ThreadContext.put("b", "2");
                capture.logger().info("x");
              });

      assertThat(capture.lines()).containsExactly("{a=1, b=2, c=3}|2|{a=1, b=2}");
    }
  }

  @Test
  void ctxLookup_inAPattern_andThroughTheConfiguration_showsTheValue() {
    try (CapturingAppender capture =
        CapturingAppender.attach("e2e.lookup", "${ctx:request_id}|%m")) {
      Context.copyCurrent()
          .run(
              () -> {
                ThreadContext.put("request_id", "r-9");
                capture.logger().info("hello");
                assertThat(new ContextMapLookup().lookup("request_id"))
                    .as("the lookup without an event reads the current ThreadContext")
                    .isEqualTo("r-9");
                assertThat(
                        LoggerContext.getContext(false)
                            .getConfiguration()
                            .getStrSubstitutor()
                            .replace("id=${ctx:request_id}"))
                    .isEqualTo("id=r-9");
              });
      new Context().run(() -> capture.logger().info("elsewhere"));

      assertThat(capture.lines()).containsExactly("r-9|hello", "${ctx:request_id}|elsewhere");
    }
  }

  @Test
  void aLogEvent_takesTheFrozenMapItself_withoutACopy() {
    try (CapturingAppender capture = CapturingAppender.attach("e2e.nocopy", "%X{request_id}")) {
      Context.copyCurrent()
          .run(
              () -> {
                ThreadContext.put("request_id", "r-1");
                StringMap current = ThreadContext.getThreadContextMap().getReadOnlyContextData();
                capture.logger().info("one");
                capture.logger().info("two");
                ThreadContext.put("request_id", "r-2");
                capture.logger().info("three");

                assertThat(capture.contextData().get(0)).isSameAs(current);
                assertThat(capture.contextData().get(1)).isSameAs(current);
                assertThat(capture.contextData().get(2)).isNotSameAs(current);
                assertThat(current.<String>getValue("request_id")).isEqualTo("r-1");
              });

      assertThat(capture.lines()).containsExactly("r-1", "r-1", "r-2");
    }
  }

  @Test
  void asyncAppender_logsTheValuesOfTheThreadThatLogged() throws Exception {
    try (CapturingAppender capture =
        CapturingAppender.attach(
            "e2e.async",
            "%X{request_id}|%m",
            (config, target) ->
                AsyncAppender.newBuilder()
                    .setName("e2e.async.front")
                    .setAppenderRefs(
                        new AppenderRef[] {AppenderRef.createAppenderRef(target.getName(), null, null)})
                    .setConfiguration(config)
                    .setBlocking(true)
                    .build())) {
      Logger log = capture.logger();
      Context.copyCurrent()
          .run(
              () -> {
                ThreadContext.put("request_id", "a");
                log.info("first");
                // Changed at once: the queued event keeps the map of its own log call.
                ThreadContext.put("request_id", "b");
                log.info("second");
              });
      new Context().run(() -> log.info("third"));

      assertThat(capture.awaitLines(3)).containsExactly("a|first", "b|second", "|third");
      assertThat(capture.threads())
          .as("formatted on the appender's thread, not the logging one")
          .doesNotContain(Thread.currentThread().getName());
    }
  }
}
