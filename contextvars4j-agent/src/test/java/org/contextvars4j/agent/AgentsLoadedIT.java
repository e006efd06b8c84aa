package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.contextvars4j.Context;
import org.junit.jupiter.api.Test;

/**
 * The JVM runs the agents its execution names: ours always, OpenTelemetry's before or after it in
 * the executions that say so ({@code -Dcv4j.opentelemetryAgent=first|last}), so that the suite
 * beside it proves what it claims.
 */
class AgentsLoadedIT {

  @Test
  void theAgentsOfThisExecutionAreLoaded_inTheirOrder() {
    assertThat(Context.class.getClassLoader()).as("the core, from the agent's jar").isNull();
    String order = System.getProperty("cv4j.opentelemetryAgent");
    boolean openTelemetry = isBootstrapClass("io.opentelemetry.javaagent.bootstrap.AgentInitializer");
    assertThat(openTelemetry).as("OpenTelemetry's agent").isEqualTo(order != null);
    if (order != null) {
      var agents =
          ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
              .filter(argument -> argument.startsWith("-javaagent:"))
              .toList();
      assertThat(agents).hasSize(2);
      int ours = order.equals("first") ? 1 : 0;
      assertThat(agents.get(ours)).contains("contextvars4j-agent");
      assertThat(agents.get(1 - ours)).contains("opentelemetry-javaagent");
    }
  }

  private static boolean isBootstrapClass(String name) {
    try {
      return Class.forName(name, false, null) != null;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
