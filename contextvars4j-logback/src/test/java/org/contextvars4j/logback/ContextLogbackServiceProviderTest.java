package org.contextvars4j.logback;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.LoggerContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.contextvars4j.concurrent.ContextThreads;
import org.contextvars4j.slf4j.ContextMDCAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The provider with a real Logback: the test JVM has Logback's own provider on the class path too,
 * and selects this one with {@code -Dslf4j.provider}, as users do (see the module's pom).
 */
class ContextLogbackServiceProviderTest {
  private static final Logger log = LoggerFactory.getLogger(ContextLogbackServiceProviderTest.class);
  private static final Pattern LINE = Pattern.compile("\\[(.*)] expect=(\\S*) .*");

  @AfterEach
  void leaveTheThreadClean() {
    MDC.clear();
  }

  @Test
  void theFacadeAndTheLoggerContextShareOneContextMdcAdapter() {
    assertThat(MDC.getMDCAdapter()).isInstanceOf(ContextMDCAdapter.class);
    assertThat(LoggerFactory.getILoggerFactory()).isInstanceOf(LoggerContext.class);
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    assertThat(context.getMDCAdapter()).isSameAs(MDC.getMDCAdapter());
    assertThat(context.isStarted()).isTrue();
  }

  @Test
  void aRequestKeepsItsIdOnEveryLineAcrossEveryHop() throws Exception {
    MemoryAppender memory = MemoryAppender.installOnRoot("[%X{request_id}] %msg");
    ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(2));
    try {
      MDC.put("request_id", "r-1");
      log.info("handler");
      pool.submit(() -> log.info("pool")).get(10, TimeUnit.SECONDS);
      ContextFutures.supplyAsync(() -> "x", pool)
          .thenApply(x -> {
            log.info("stage");
            return x;
          })
          .thenRunAsync(() -> log.info("async stage"), pool)
          .get(10, TimeUnit.SECONDS);
      CompletableFuture<Void> done = new CompletableFuture<>();
      ContextThreads.start(Thread.ofVirtual(), () -> {
        log.info("virtual thread");
        done.complete(null);
      });
      done.get(10, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(memory.lines())
        .containsExactly(
            "[r-1] handler", "[r-1] pool", "[r-1] stage", "[r-1] async stage", "[r-1] virtual thread");
  }

  @Test
  void concurrentRequestsOnFourThreadsNeverShowAnotherRequestsId() throws Exception {
    MemoryAppender memory = MemoryAppender.installOnRoot("[%X{request_id}] expect=%msg");
    long seed = System.nanoTime();
    Random random = new Random(seed);
    ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(4));
    int requests = 2_000;
    int expectedLines = 0;
    try {
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (int request = 0; request < requests; request++) {
        String id = "r" + request;
        int hops = 4 + random.nextInt(3); // 5 to 7 lines a request: at least 10,000 in all
        expectedLines += 1 + hops;
        all.add(
            new Context().call(() -> {
              MDC.put("request_id", id);
              log.info("{} handler", id);
              CompletableFuture<?> chain = ContextFutures.runAsync(() -> log.info("{} hop", id), pool);
              for (int hop = 1; hop < hops; hop++) {
                chain = chain.thenRunAsync(() -> {
                  log.info("{} hop", id);
                  // What a stage sets stays in its own copy: the next stage sees the request's id.
                  MDC.put("request_id", "overwritten by a stage of " + id);
                }, pool);
              }
              return chain;
            }));
      }
      for (CompletableFuture<?> chain : all) {
        chain.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    List<String> lines = memory.lines();
    assertThat(lines).as("seed %d", seed).hasSize(expectedLines).hasSizeGreaterThanOrEqualTo(10_000);
    List<String> wrong = new ArrayList<>();
    for (String line : lines) {
      Matcher matcher = LINE.matcher(line);
      if (!matcher.matches() || !matcher.group(1).equals(matcher.group(2))) {
        wrong.add(line);
      }
    }
    assertThat(wrong).as("lines with a wrong or missing id, seed %d", seed).isEmpty();
  }

  @Test
  void aTasksPutIsSeenNeitherByItsSubmitterNorByTheNextTask() throws Exception {
    MemoryAppender memory = MemoryAppender.installOnRoot("[%X{request_id}|%X{task}] %msg");
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try {
      MDC.put("request_id", "submitter");
      pool.submit(() -> {
            MDC.put("task", "first");
            log.info("first task");
          })
          .get(10, TimeUnit.SECONDS);
      log.info("submitter after");
      MDC.remove("request_id");
      pool.submit(() -> log.info("next task")).get(10, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(memory.lines())
        .containsExactly("[submitter|first] first task", "[submitter|] submitter after", "[|] next task");
  }

  @Test
  void oneCopyCarriesTheMdcAndTheVariablesAndAnEmptyContextHasNeither() {
    ContextVar<String> user = ContextVar.named("user");
    MemoryAppender memory = MemoryAppender.installOnRoot("[%X{request_id}] %msg");
    MDC.put("request_id", "r-7");
    Context snapshot;
    try (var token = user.set("alice")) {
      snapshot = Context.copyCurrent();
    }
    MDC.put("request_id", "later");
    snapshot.run(() -> log.info("user={}", user.get()));
    new Context().run(() -> log.info("empty={}", MDC.getCopyOfContextMap()));
    assertThat(memory.lines()).containsExactly("[r-7] user=alice", "[] empty=null");
  }

  @Test
  void anAsyncAppenderWritesTheValuesOfTheThreadThatLogged() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    CountDownLatch release = new CountDownLatch(1);
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setIncludeCallerData(false);
    MemoryAppender memory = MemoryAppender.installOnRoot("[%X{request_id}] %msg", async);
    // The worker writes only after every event is queued, so the MDC has changed by then.
    HoldingAppender gate = new HoldingAppender(memory, release);
    gate.setContext(context);
    gate.start();
    async.addAppender(gate);
    async.start();
    try {
      for (int i = 0; i < 20; i++) {
        MDC.put("request_id", "id-" + i);
        log.info("line {}", i);
      }
      MDC.put("request_id", "changed after logging");
      release.countDown();
      async.stop(); // drains the queue, bounded by its maxFlushTime
    } finally {
      release.countDown();
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      expected.add("[id-" + i + "] line " + i);
    }
    assertThat(memory.lines()).containsExactlyElementsOf(expected);
  }
}
