package org.contextvars4j.log4j2;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.slf4j.ContextMDCAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Log4j's API through {@code log4j-to-slf4j} to Logback, with contextvars4j's MDC: run by the
 * surefire execution {@code to-slf4j}, whose class path has no log4j-core (and no
 * log4j-slf4j2-impl) and which sets {@code
 * -Dslf4j.provider=org.contextvars4j.logback.ContextLogbackServiceProvider}.
 *
 * <p>There Log4j sends the {@link ThreadContext} to SLF4J's {@link MDC} (its provider ignores
 * {@code log4j2.threadContextMap}, so this module's map is not used): the MDC is {@code
 * contextvars4j-logback}'s {@link ContextMDCAdapter}, which keeps it in the {@link Context}.
 */
final class ToSlf4jLogbackTest {

  private static final long TIMEOUT_SECONDS = 30;
  private static final String LOGGER = "to.slf4j";

  /** A real Logback appender that formats each event with a Logback pattern when appended. */
  static final class CapturingLogbackAppender extends AppenderBase<ILoggingEvent> {
    private final PatternLayout layout = new PatternLayout();
    final Queue<String> lines = new ConcurrentLinkedQueue<>();

    CapturingLogbackAppender(LoggerContext context, String pattern) {
      setContext(context);
      setName("capture");
      layout.setContext(context);
      layout.setPattern(pattern);
      layout.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
      lines.add(layout.doLayout(event));
    }
  }

  private CapturingLogbackAppender capture;

  @BeforeEach
  void attach() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    capture = new CapturingLogbackAppender(context, "%X{request_id}|%m");
    capture.start();
    ch.qos.logback.classic.Logger logger = context.getLogger(LOGGER);
    logger.setLevel(Level.TRACE);
    logger.setAdditive(false);
    logger.addAppender(capture);
  }

  @AfterEach
  void detach() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(LOGGER).detachAppender(capture);
    capture.stop();
    assertThat(ThreadContext.isEmpty()).as("the test left nothing in the ThreadContext").isTrue();
  }

  @Test
  void theStack_isLog4jApiToSlf4jToLogback_withContextvars4jsMdc() {
    assertThat(LogManager.getContext(false).getClass().getName())
        .isEqualTo("org.apache.logging.slf4j.SLF4JLoggerContext");
    assertThat(LoggerFactory.getILoggerFactory()).isInstanceOf(LoggerContext.class);
    assertThat(MDC.getMDCAdapter()).isInstanceOf(ContextMDCAdapter.class);
    assertThat(((LoggerContext) LoggerFactory.getILoggerFactory()).getMDCAdapter())
        .isSameAs(MDC.getMDCAdapter());
  }

  @Test
  void threadContextPut_reachesLogbacksPattern_andStaysInItsContext() {
    Logger log = LogManager.getLogger(LOGGER);
    new Context()
        .run(
            () -> {
              ThreadContext.put("request_id", "r-1");
              log.info("inside");
              assertThat(MDC.get("request_id")).isEqualTo("r-1");
            });
    log.info("outside");

    assertThat(ThreadContext.get("request_id")).isNull();
    assertThat(List.copyOf(capture.lines)).containsExactly("r-1|inside", "|outside");
  }

  @Test
  void threadContext_followsAWrappedExecutor_andNoTaskLeaksIntoTheNext() throws Exception {
    Logger log = LogManager.getLogger(LOGGER);
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try {
      new Context()
          .call(
              () -> {
                ThreadContext.put("request_id", "r-2");
                pool.submit(
                        () -> {
                          log.info("task");
                          ThreadContext.put("request_id", "changed by the task");
                        })
                    .get(TIMEOUT_SECONDS, SECONDS);
                pool.submit(() -> log.info("next task")).get(TIMEOUT_SECONDS, SECONDS);
                log.info("submitter");
                return null;
              });
    } finally {
      pool.shutdownNow();
    }

    assertThat(List.copyOf(capture.lines))
        .containsExactly("r-2|task", "r-2|next task", "r-2|submitter");
  }

  @Test
  void copyCurrent_carriesTheThreadContext_toAPlainThread() throws Exception {
    Logger log = LogManager.getLogger(LOGGER);
    ExecutorService plain = Executors.newSingleThreadExecutor();
    try {
      Context snapshot =
          new Context()
              .call(
                  () -> {
                    ThreadContext.put("request_id", "r-3");
                    return Context.copyCurrent();
                  });
      plain.submit(() -> snapshot.run(() -> log.info("in the snapshot"))).get(TIMEOUT_SECONDS, SECONDS);
      plain.submit(() -> log.info("plain")).get(TIMEOUT_SECONDS, SECONDS);
    } finally {
      plain.shutdownNow();
    }

    assertThat(List.copyOf(capture.lines)).containsExactly("r-3|in the snapshot", "|plain");
  }
}
