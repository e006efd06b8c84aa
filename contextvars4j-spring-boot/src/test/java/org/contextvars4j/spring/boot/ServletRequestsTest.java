package org.contextvars4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real Spring MVC application on embedded Tomcat with one server thread, so that every request
 * reuses the thread the previous one left; its handlers set a variable and never reset it.
 */
class ServletRequestsTest {
  private static final String[] ONE_SERVER_THREAD = {
    "server.tomcat.threads.max=1",
    "server.tomcat.threads.min-spare=1",
    "spring.task.execution.pool.core-size=1",
    "spring.task.execution.pool.max-size=1",
  };

  @Test
  void everyRequestStartsEmpty_andEveryExecutorSeesItsValue_2000Requests() throws Exception {
    try (ConfigurableApplicationContext app = start(ONE_SERVER_THREAD)) {
      int requests = 2_000;
      List<String> bodies =
          Apps.getAll(Apps.port(app), requests, 8, i -> "/request?id=r" + i);
      for (int i = 0; i < requests; i++) {
        String id = "r" + i;
        // before anything is set | @Async | pool | scheduler | virtual thread | handler at the end
        assertThat(bodies.get(i)).as("request " + id).isEqualTo(String.join("|", "-", id, id, id, id, id));
      }
    }
  }

  @Test
  void aCallablesResultIsComputedInACopyOfTheRequestsContext() throws Exception {
    try (ConfigurableApplicationContext app = start(ONE_SERVER_THREAD)) {
      List<String> bodies = Apps.getAll(Apps.port(app), 200, 4, i -> "/callable?id=c" + i);
      for (int i = 0; i < bodies.size(); i++) {
        assertThat(bodies.get(i)).as("request c" + i).isEqualTo("-|c" + i);
      }
    }
  }

  @Test
  void aRequestsAsynchronousDispatchRunsInACopyOfTheContextTheRequestLeft() throws Exception {
    try (ConfigurableApplicationContext app = start(ONE_SERVER_THREAD)) {
      for (int i = 0; i < 50; i++) {
        HttpResponse<String> response = send(Apps.port(app), "/deferred?id=d" + i);
        assertThat(response.statusCode()).isEqualTo(200);
        // A plain thread completed it: it saw nothing of the request.
        assertThat(response.body()).isEqualTo("-|-");
        assertThat(response.headers().firstValue("Seen-On-ASYNC")).hasValue("d" + i);
      }
    }
  }

  @Test
  void aRequestsErrorDispatchRunsInACopyOfTheContextTheRequestLeft() throws Exception {
    // The failures are on purpose: Tomcat's report of each is not shown.
    try (ConfigurableApplicationContext app =
        start(with("logging.level.org.apache.catalina.core=OFF"))) {
      for (int i = 0; i < 50; i++) {
        HttpResponse<String> failed = send(Apps.port(app), "/fails?id=e" + i);
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.headers().firstValue("Seen-On-ERROR")).hasValue("e" + i);
        // And the next request on the thread starts empty all the same.
        assertThat(Apps.get(Apps.port(app), "/callable?id=after" + i)).startsWith("-|");
      }
    }
  }

  private static HttpResponse<String> send(int port, String path) throws Exception {
    try (HttpClient client = HttpClient.newHttpClient()) {
      return client.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(Apps.TIMEOUT)
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void aScheduledMethodStartsEveryRunFromTheContextItWasScheduledIn() {
    try (ConfigurableApplicationContext app = start(ONE_SERVER_THREAD)) {
      ServletApp.Ticker ticker = app.getBean(ServletApp.Ticker.class);
      Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> ticker.seen.size() >= 5);
      assertThat(List.copyOf(ticker.seen)).containsOnly("-");
    }
  }

  /** The control: the checks above see a leak when there is one. */
  @Test
  void withTheFilterOff_theNextRequestOnTheThreadSeesTheLastOnesValue() throws Exception {
    try (ConfigurableApplicationContext app = start(with("contextvars4j.servlet.enabled=false"))) {
      int port = Apps.port(app);
      Apps.get(port, "/request?id=first");
      assertThat(Apps.get(port, "/request?id=second")).startsWith("first|");
    }
  }

  /** The control: without the decorator, a task sees what the last task on its thread set. */
  @Test
  void withTheDecoratorOff_theExecutorsSeeNothingOfTheRequest_andLeaksBetweenTasks()
      throws Exception {
    try (ConfigurableApplicationContext app =
        start(with("contextvars4j.task-decorator.enabled=false"))) {
      String[] seen = Apps.get(Apps.port(app), "/request?id=alone").split("\\|");
      assertThat(seen[0]).isEqualTo("-");
      assertThat(List.of(seen).subList(1, 5)).doesNotContain("alone");
      // The one pool thread ran the @Async method first, which set a value and left it there.
      assertThat(seen[2]).startsWith("overwritten by a task");
      assertThat(seen[5]).isEqualTo("alone");
    }
  }

  @Test
  void withEverythingOff_noPartIsInstalled() {
    try (ConfigurableApplicationContext app = start(with("contextvars4j.enabled=false"))) {
      assertThat(app.getBeanNamesForType(ContextTaskDecorator.class)).isEmpty();
      assertThat(app.getBeansOfType(org.springframework.core.task.TaskDecorator.class)).isEmpty();
      assertThat(app.getBeanNamesForType(
              org.springframework.boot.web.servlet.FilterRegistrationBean.class))
          .doesNotContain("contextServletFilter");
    }
  }

  private static String[] with(String property) {
    String[] properties = java.util.Arrays.copyOf(ONE_SERVER_THREAD, ONE_SERVER_THREAD.length + 1);
    properties[ONE_SERVER_THREAD.length] = property;
    return properties;
  }

  private static ConfigurableApplicationContext start(String... properties) {
    return Apps.start(ServletApp.class, WebApplicationType.SERVLET, properties);
  }
}
