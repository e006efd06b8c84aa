package org.contextvars4j.log4j2;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.logging.log4j.ThreadContext;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * SLF4J through {@code log4j-slf4j2-impl}: SLF4J's {@link MDC} is Log4j's {@link ThreadContext}, so
 * with this module it lives in the {@link Context} too, and SLF4J loggers print it with Log4j's
 * {@code %X}.
 */
final class Slf4jToLog4jBridgeTest {

  private static final long TIMEOUT_SECONDS = CapturingAppender.TIMEOUT_SECONDS;

  @AfterEach
  void mdcIsEmpty() {
    assertThat(MDC.getCopyOfContextMap()).as("the test left nothing in the MDC").isNullOrEmpty();
  }

  @Test
  void slf4jsMdc_isLog4jsThreadContext_onOurMap() {
    assertThat(MDC.getMDCAdapter().getClass().getName())
        .isEqualTo("org.apache.logging.slf4j.Log4jMDCAdapter");
    assertThat(ThreadContext.getThreadContextMap()).isInstanceOf(ContextThreadContextMap.class);
  }

  @Test
  void mdcPut_insideAContextRun_isNotVisibleOutside() {
    new Context()
        .run(
            () -> {
              MDC.put("request_id", "r-1");
              assertThat(MDC.get("request_id")).isEqualTo("r-1");
              assertThat(ThreadContext.get("request_id")).isEqualTo("r-1");
            });

    assertThat(MDC.get("request_id")).isNull();
    assertThat(ThreadContext.get("request_id")).isNull();
  }

  @Test
  void mdcPut_isCarriedByAWrappedExecutor_andShownByLog4jsPattern() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try (CapturingAppender capture = CapturingAppender.attach("slf4j.bridge", "%X{request_id}|%m")) {
      org.slf4j.Logger log = LoggerFactory.getLogger("slf4j.bridge");
      new Context()
          .call(
              () -> {
                MDC.put("request_id", "r-2");
                log.info("on the caller");
                String seen =
                    pool.submit(
                            () -> {
                              log.info("in the task");
                              MDC.put("request_id", "changed by the task");
                              return MDC.get("request_id");
                            })
                        .get(TIMEOUT_SECONDS, SECONDS);
                assertThat(seen).isEqualTo("changed by the task");
                pool.submit(() -> log.info("next task")).get(TIMEOUT_SECONDS, SECONDS);
                log.info("back on the caller");
                return null;
              });

      assertThat(capture.lines())
          .containsExactly(
              "r-2|on the caller", "r-2|in the task", "r-2|next task", "r-2|back on the caller");
    } finally {
      pool.shutdownNow();
    }
  }
}
