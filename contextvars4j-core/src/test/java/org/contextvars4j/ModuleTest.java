package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Black-box check of the module descriptor that is compiled into the artifact: the public surface
 * is exactly the exported packages, and the core needs nothing at run time.
 */
final class ModuleTest {

  private static ModuleDescriptor descriptor() throws Exception {
    Path classes = Path.of(ContextVar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    ModuleReference reference =
        ModuleFinder.of(classes).find("org.contextvars4j").orElseThrow();
    return reference.descriptor();
  }

  @Test
  void exports_areExactlyThePublicPackages_andTheInternalOneToTheModulesThatUseIt()
      throws Exception {
    ModuleDescriptor descriptor = descriptor();

    assertThat(
            descriptor.exports().stream()
                .filter(export -> !export.isQualified())
                .map(ModuleDescriptor.Exports::source))
        .as("the packages exported to every module: the public API")
        .containsExactlyInAnyOrder(
            "org.contextvars4j", "org.contextvars4j.hamt", "org.contextvars4j.concurrent");
    // The steps of a coroutine (ContextAccess) are for contextvars4j-kotlin, the set without a
    // token for the logging integrations, and no one else.
    assertThat(
            descriptor.exports().stream()
                .filter(ModuleDescriptor.Exports::isQualified)
                .map(export -> export.source() + " to " + new TreeSet<>(export.targets())))
        .as("the packages exported to a chosen few")
        .containsExactly(
            "org.contextvars4j.internal to [org.contextvars4j.kotlin, org.contextvars4j.log4j2,"
                + " org.contextvars4j.slf4j]");
    assertThat(descriptor.opens()).as("nothing is open to reflection").isEmpty();
  }

  @Test
  void requires_onlyJavaBaseAtRunTime() throws Exception {
    Set<String> runtime =
        descriptor().requires().stream()
            .filter(r -> !r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC))
            .map(ModuleDescriptor.Requires::name)
            .collect(Collectors.toSet());
    Set<String> compileOnly =
        descriptor().requires().stream()
            .filter(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC))
            .map(ModuleDescriptor.Requires::name)
            .collect(Collectors.toSet());

    assertThat(runtime).as("zero runtime dependencies").containsExactly("java.base");
    assertThat(compileOnly).as("annotations only, at compile time").containsExactly("org.jspecify");
  }
}
