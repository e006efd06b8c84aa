package org.contextvars4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring Boot's own log correlation with contextvars4j-logback and contextvars4j-opentelemetry:
 * every line a request logs, on whatever thread, shows that request's trace and span ids, printed
 * by the pattern Spring Boot configures for its console, and the MDC entry the request put; with
 * one server thread, none of it reaches the next request.
 */
class LogCorrelationTest {

  @Test
  void everyLineOfARequestOnEveryThreadCarriesItsTraceSpanAndMdc_2000Requests() throws Exception {
    // The build selects the provider; without it this test would prove nothing about ours.
    assertThat(MDC.getMDCAdapter().getClass().getName())
        .isEqualTo("org.contextvars4j.slf4j.ContextMDCAdapter");
    long seed = Long.getLong("cv4j.seed", System.nanoTime());
    Random random = new Random(seed);
    try (ConfigurableApplicationContext app =
        Apps.start(
            TracedApp.class,
            WebApplicationType.SERVLET,
            "spring.application.name=traced",
            "management.tracing.sampling.probability=1.0",
            "logging.level." + TracedApp.class.getName() + "=INFO",
            "server.tomcat.threads.max=1",
            "server.tomcat.threads.min-spare=1",
            "spring.task.execution.pool.core-size=2",
            "spring.task.execution.pool.max-size=2")) {
      Queue<String> lines = captureWithBootsConsolePattern();
      int port = Apps.port(app);
      int requests = 2_000;
      List<String> traceIds = new ArrayList<>();
      List<String> spanIds = new ArrayList<>();
      try (HttpClient client = HttpClient.newHttpClient()) {
        for (int i = 0; i < requests; i++) {
          byte[] trace = new byte[16];
          byte[] parent = new byte[8];
          random.nextBytes(trace);
          random.nextBytes(parent);
          String traceId = HexFormat.of().formatHex(trace);
          HttpRequest request =
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/traced?id=t" + i))
                  .header("traceparent", "00-" + traceId + "-" + HexFormat.of().formatHex(parent) + "-01")
                  .timeout(Apps.TIMEOUT)
                  .build();
          HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
          assertThat(response.statusCode()).as("seed %d, request t%d", seed, i).isEqualTo(200);
          String[] ids = response.body().split("\\|");
          assertThat(ids[0]).as("the server span continues the caller's trace").isEqualTo(traceId);
          traceIds.add(ids[0]);
          spanIds.add(ids[1]);
        }
      }
      Map<String, List<String>> linesByRequest = new java.util.HashMap<>();
      for (String line : lines) {
        String id = line.substring(line.lastIndexOf(' ') + 1).strip();
        linesByRequest.computeIfAbsent(id, k -> new ArrayList<>()).add(line);
      }
      for (int i = 0; i < requests; i++) {
        List<String> mine = linesByRequest.getOrDefault("t" + i, List.of());
        assertThat(mine).as("seed %d: the lines of request t%d", seed, i).hasSize(5);
        for (String line : mine) {
          assertThat(line)
              .as("seed %d: a line of request t%d", seed, i)
              .contains("[" + traceIds.get(i) + "-" + spanIds.get(i) + "]")
              // The last request's request_id was never removed, on this one server thread.
              .contains(line.contains(" start t") ? "request_id= " : "request_id=t" + i + " ");
        }
      }
    }
  }

  /**
   * Adds to the application's logger an appender that formats with the pattern of the console
   * appender Spring Boot configured, correlation ids included, and returns what it writes.
   */
  private static Queue<String> captureWithBootsConsolePattern() {
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    OutputStreamAppender<ILoggingEvent> console =
        (OutputStreamAppender<ILoggingEvent>)
            logback.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
    String pattern =
        ((PatternLayout) ((LayoutWrappingEncoder<ILoggingEvent>) console.getEncoder()).getLayout())
            .getPattern();
    assertThat(pattern).as("Spring Boot's console pattern").contains("correlation");
    PatternLayout layout = new PatternLayout();
    layout.setContext(logback);
    // Boot's pattern, and the application's own MDC entry.
    layout.setPattern("request_id=%X{request_id} " + pattern);
    layout.start();
    Queue<String> lines = new ConcurrentLinkedQueue<>();
    AppenderBase<ILoggingEvent> capture =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            lines.add(layout.doLayout(event).strip());
          }
        };
    capture.setContext(logback);
    capture.start();
    ch.qos.logback.classic.Logger logger = logback.getLogger(TracedApp.class);
    logger.addAppender(capture);
    // The lines are checked here, not printed.
    logger.setAdditive(false);
    return lines;
  }
}
