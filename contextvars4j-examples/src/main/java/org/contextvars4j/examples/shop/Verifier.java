package org.contextvars4j.examples.shop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checks what one mode's requests saw, against what the load generator sent: every value of every
 * observation in every answer, every line of both services' logs, the steps each request must
 * have taken, and the faults each must have run into. Not thread-safe: one thread checks.
 */
final class Verifier {
  /** The steps every request takes, and how often; faults add theirs. */
  static final Map<String, Integer> EVERY_REQUEST_STEPS =
      Map.ofEntries(
          Map.entry("handler", 1),
          Map.entry("async", 1),
          Map.entry("future.supply", 1),
          Map.entry("future.apply", 1),
          Map.entry("http.call", 1),
          Map.entry("virtual", 1),
          Map.entry("retry.attempt1", 1),
          Map.entry("retry.attempt2", 1),
          Map.entry("reactor.source", 1),
          Map.entry("reactor.publishOn", 1),
          Map.entry("parallel", Orders.PARALLEL_ELEMENTS),
          Map.entry("inventory.handler", 1),
          Map.entry("inventory.pool", 1));

  private static final Pattern LINE =
      Pattern.compile(
          "^\\S+ \\[(.*)] rid=(\\S*) tenant=(\\S*) trace=(\\S*) \\| step=(\\S+) for=(\\S+)$");
  private static final int SAMPLES = 12;

  private final Map<String, long[]> byMechanism = new TreeMap<>();
  private final Map<Fault, int[]> faults = new EnumMap<>(Fault.class);
  private final List<String> wrongSamples = new ArrayList<>();
  private final Map<String, Answer> byId = new HashMap<>();
  private long checks;
  private long wrong;
  private long logLines;
  private int failedRequests;

  /** {@return the values compared} */
  long checks() {
    return checks;
  }

  /** {@return the values that were wrong or missing} */
  long wrong() {
    return wrong;
  }

  /** {@return the log lines checked} */
  long logLines() {
    return logLines;
  }

  /** {@return requests that got no answer at all} */
  int failedRequests() {
    return failedRequests;
  }

  /** {@return per mechanism: checks, then wrong} */
  Map<String, long[]> byMechanism() {
    return byMechanism;
  }

  /** {@return per fault: injected, then accounted for} */
  Map<Fault, int[]> faults() {
    return faults;
  }

  /** {@return descriptions of the first wrong values} */
  List<String> wrongSamples() {
    return wrongSamples;
  }

  /** {@return the answers checked, by the request id orders used} */
  Map<String, Answer> answersById() {
    return byId;
  }

  /** Checks one answer: its status, its steps, and every value each step saw. */
  void check(Answer answer) {
    Sent sent = answer.sent();
    int[] fault = faults.computeIfAbsent(sent.fault(), f -> new int[2]);
    fault[0]++;
    if (answer.failure() != null) {
      failedRequests++;
      count("request", false, "request " + sent.index() + " got no answer: " + answer.failure());
      return;
    }
    String id = answer.requestId();
    boolean idRight = sent.givenId() == null ? id.startsWith("gen-") : id.equals(sent.givenId());
    count("request", idRight, id + ": answered with request id " + id + " for " + sent.givenId());
    if (byId.put(id, answer) != null) {
      count("request", false, id + ": two answers carry this request id");
    }
    int expectedStatus =
        switch (sent.fault()) {
          case THROW -> 500;
          case TIMEOUT -> 504;
          default -> 200;
        };
    boolean statusRight = answer.status() == expectedStatus;
    count("request", statusRight, id + ": status " + answer.status() + ", not " + expectedStatus);
    Map<String, Integer> steps = new HashMap<>();
    boolean faultStepsRight = true;
    for (Observed seen : answer.seen()) {
      steps.merge(seen.step(), 1, Integer::sum);
      faultStepsRight &= checkObserved(seen, sent, id);
    }
    Map<String, Integer> expected = new HashMap<>(EVERY_REQUEST_STEPS);
    switch (sent.fault()) {
      case THROW -> expected.put("error.caught", 1);
      case TIMEOUT -> expected.put("timeout.caught", 1);
      case CANCEL -> {
        expected.put("cancel.interrupted", 1);
        expected.put("cancel.after", 1);
      }
      case FULL -> {
        expected.put("full.callerRuns", 1);
        expected.put("full.after", 1);
        // Zero, one or two of its tasks were accepted by the pool before one was rejected.
        expected.put("full.pool", Math.min(2, steps.getOrDefault("full.pool", 0)));
      }
      case NONE -> {}
    }
    for (Map.Entry<String, Integer> step : expected.entrySet()) {
      int taken = steps.getOrDefault(step.getKey(), 0);
      boolean right = taken == step.getValue();
      faultStepsRight &= right || EVERY_REQUEST_STEPS.containsKey(step.getKey());
      count(
          mechanism(step.getKey()),
          right,
          id + ": step " + step.getKey() + " ran " + taken + " times, not " + step.getValue());
    }
    for (String step : steps.keySet()) {
      if (!expected.containsKey(step)) {
        count(mechanism(step), false, id + ": unexpected step " + step);
      }
    }
    if (statusRight && faultStepsRight) {
      fault[1]++;
    }
  }

  /** {@return whether every value {@code seen} holds is the request's}, counting each */
  private boolean checkObserved(Observed seen, Sent sent, String id) {
    String mechanism = seen.mechanism();
    boolean inventory = seen.step().startsWith("inventory.");
    String where = id + " at " + seen.step() + " on " + seen.thread() + ": ";
    String expectedStage =
        seen.step().equals("full.pool") || seen.step().equals("full.callerRuns")
            ? "full"
            : ShopVars.UNBOUND;
    boolean right = true;
    right &= count(mechanism, seen.forId().equals(id), where + "works for " + seen.forId());
    right &= value(mechanism, where, "REQUEST_ID", seen.requestId(), id);
    right &= value(mechanism, where, "TENANT", seen.tenant(), sent.tenant());
    // The user stays in orders: inventory must not see one.
    right &= value(mechanism, where, "USER", seen.user(), inventory ? ShopVars.UNBOUND : sent.user());
    right &= value(mechanism, where, "STAGE", seen.stage(), expectedStage);
    right &= value(mechanism, where, "the span's trace", seen.traceId(), sent.traceId());
    right &= value(mechanism, where, "MDC request_id", seen.mdcRequestId(), id);
    right &= value(mechanism, where, "MDC tenant", seen.mdcTenant(), sent.tenant());
    right &= value(mechanism, where, "MDC traceId", seen.mdcTraceId(), sent.traceId());
    return right;
  }

  private boolean value(String mechanism, String where, String what, String seen, String expected) {
    return count(mechanism, seen.equals(expected), where + what + " was " + seen + ", not " + expected);
  }

  /**
   * Checks every step line of a service's log: its MDC must be the request's it works for, and
   * each request must have logged one line per step it answered with ({@code extraLines} more).
   *
   * @param log the service's log file
   * @param inventory whether it is inventory's log
   */
  void checkLog(Path log, boolean inventory) throws IOException {
    Map<String, Integer> linesById = new HashMap<>();
    try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
      for (String line : (Iterable<String>) lines::iterator) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
          continue;
        }
        logLines++;
        String thread = m.group(1);
        String rid = m.group(2);
        String tenant = m.group(3);
        String trace = m.group(4);
        String step = m.group(5);
        String forId = m.group(6);
        String mechanism = "log:" + (inventory ? "inventory" : "orders");
        Answer answer = byId.get(forId);
        if (answer == null) {
          count(mechanism, false, "a log line for a request no answer names: " + line);
          continue;
        }
        linesById.merge(forId, 1, Integer::sum);
        String where = forId + " logged " + step + " on " + thread + ": ";
        value(mechanism, where, "%X{request_id}", rid, forId);
        value(mechanism, where, "%X{tenant}", tenant, answer.sent().tenant());
        value(mechanism, where, "%X{traceId}", trace, answer.sent().traceId());
      }
    }
    for (Answer answer : byId.values()) {
      long expected =
          answer.seen().stream().filter(s -> s.step().startsWith("inventory.") == inventory).count();
      if (!inventory && answer.sent().fault() == Fault.TIMEOUT) {
        expected++; // timeout.late, logged after the answer
      }
      int logged = linesById.getOrDefault(answer.requestId(), 0);
      count(
          "log:" + (inventory ? "inventory" : "orders"),
          logged == expected,
          answer.requestId() + " logged " + logged + " lines in " + log.getFileName() + ", not " + expected);
    }
  }

  /** Counts the late lines of timed-out requests in orders' log. */
  static long lateLines(Path log) throws IOException {
    if (!Files.exists(log)) {
      return 0;
    }
    try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
      return lines.filter(l -> l.contains("| step=timeout.late ")).count();
    }
  }

  private boolean count(String mechanism, boolean right, String otherwise) {
    long[] counts = byMechanism.computeIfAbsent(mechanism, m -> new long[2]);
    counts[0]++;
    checks++;
    if (!right) {
      counts[1]++;
      wrong++;
      if (wrongSamples.size() < SAMPLES) {
        wrongSamples.add(Objects.requireNonNull(otherwise));
      }
    }
    return right;
  }

  private static String mechanism(String step) {
    int dot = step.indexOf('.');
    return dot < 0 ? step : step.substring(0, dot);
  }
}
