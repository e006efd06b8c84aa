package org.contextvars4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Hooks;

/**
 * A real WebFlux application on Reactor Netty with one event-loop thread (the build sets {@code
 * reactor.netty.ioWorkerCount=1}), so that every exchange runs on the thread the previous one
 * left; its handler sets a variable there and never resets it.
 */
class WebFluxRequestsTest {

  // Spring Boot turns Reactor's automatic mode on for the whole JVM and never off.
  @BeforeEach
  @AfterEach
  void automaticModeOff() {
    Hooks.disableAutomaticContextPropagation();
  }

  @Test
  void withAutomaticPropagation_everyOperatorSeesTheExchangesValue_2000Exchanges()
      throws Exception {
    try (ConfigurableApplicationContext app = start("spring.reactor.context-propagation=auto")) {
      int exchanges = 2_000;
      List<String> bodies =
          Apps.getAll(Apps.port(app), exchanges, 16, i -> "/exchange?id=x" + i);
      for (int i = 0; i < exchanges; i++) {
        String id = "x" + i;
        assertThat(bodies.get(i)).as("exchange " + id).isEqualTo(String.join("|", "-", id, id, id, id));
      }
    }
  }

  @Test
  void withoutAutomaticPropagation_everyExchangeStillStartsEmpty() throws Exception {
    try (ConfigurableApplicationContext app = start()) {
      List<String> bodies = Apps.getAll(Apps.port(app), 300, 8, i -> "/exchange?id=y" + i);
      for (int i = 0; i < bodies.size(); i++) {
        // Without the automatic mode, Reactor carries nothing to other threads: nothing leaks either.
        assertThat(bodies.get(i)).as("exchange y" + i).isEqualTo("-|y" + i + "|-|-|-");
      }
    }
  }

  /** The control: the checks above see a leak when there is one. */
  @Test
  void withTheFilterOff_theNextExchangeOnAThreadSeesTheLastOnesValue() throws Exception {
    try (ConfigurableApplicationContext app = start("contextvars4j.webflux.enabled=false")) {
      assertThat(sameThreadPairs(Apps.port(app), 20))
          .isNotEmpty()
          .allSatisfy(pair -> assertThat(pair[1]).isEqualTo(pair[0]));
    }
  }

  @Test
  void withTheFilterOn_theNextExchangeOnAThreadSeesNothing() throws Exception {
    try (ConfigurableApplicationContext app = start()) {
      assertThat(sameThreadPairs(Apps.port(app), 20))
          .isNotEmpty()
          .allSatisfy(pair -> assertThat(pair[1]).isEqualTo("-"));
    }
  }

  /**
   * Sends {@code count} exchanges one after another, and returns, for each that ran on the same
   * thread as the one before it, the earlier one's id and what the later one found.
   */
  private static List<String[]> sameThreadPairs(int port, int count) throws Exception {
    List<String[]> pairs = new java.util.ArrayList<>();
    String lastThread = null;
    for (int i = 0; i < count; i++) {
      String[] seen = Apps.get(port, "/thread?id=z" + i).split("\\|");
      assertThat(seen[1]).as("a Reactor Netty event-loop thread").startsWith("reactor-http-");
      if (seen[1].equals(lastThread)) {
        pairs.add(new String[] {"z" + (i - 1), seen[0]});
      }
      lastThread = seen[1];
    }
    return pairs;
  }

  private static ConfigurableApplicationContext start(String... properties) {
    return Apps.start(WebFluxApp.class, WebApplicationType.REACTIVE, properties);
  }
}
