package org.contextvars4j.agent.internal;

import java.util.function.Supplier;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.field.FieldList;
import net.bytebuddy.description.method.MethodList;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.pool.TypePool;
import org.jspecify.annotations.Nullable;

/**
 * A visitor made when it is first needed: an advice is read and analysed only if a class it is
 * for is loaded, so an application that never loads {@code Timer} or {@code CompletableFuture}
 * does not pay for their advice at start-up.
 *
 * <p>Thread-safe: two threads that need it at once may both make it; both get an equal one.
 */
final class LazyVisitor implements AsmVisitorWrapper {
  private final Supplier<AsmVisitorWrapper> factory;
  private volatile @Nullable AsmVisitorWrapper made;

  LazyVisitor(Supplier<AsmVisitorWrapper> factory) {
    this.factory = factory;
  }

  private AsmVisitorWrapper made() {
    AsmVisitorWrapper visitor = made;
    if (visitor == null) {
      visitor = factory.get();
      made = visitor;
    }
    return visitor;
  }

  @Override
  public int mergeWriter(int flags) {
    return made().mergeWriter(flags);
  }

  @Override
  public int mergeReader(int flags) {
    return made().mergeReader(flags);
  }

  @Override
  public ClassVisitor wrap(
      TypeDescription instrumentedType,
      ClassVisitor classVisitor,
      Implementation.Context implementationContext,
      TypePool typePool,
      FieldList<FieldDescription.InDefinedShape> fields,
      MethodList<?> methods,
      int writerFlags,
      int readerFlags) {
    return made()
        .wrap(
            instrumentedType,
            classVisitor,
            implementationContext,
            typePool,
            fields,
            methods,
            writerFlags,
            readerFlags);
  }
}
