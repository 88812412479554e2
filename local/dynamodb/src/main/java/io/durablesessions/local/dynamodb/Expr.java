package io.durablesessions.local.dynamodb;

import java.util.List;
import java.util.Set;

/** AST of DynamoDB expressions. Names ({@code #n}) and values ({@code :v}) stay symbolic until evaluation. */
final class Expr {
    private Expr() {}

    /** One element of a document path: an attribute/map key name (literal or {@code #placeholder}) or a list index. */
    sealed interface PathElement permits Name, Index {}

    record Name(String text) implements PathElement {}

    record Index(int index) implements PathElement {}

    record Path(List<PathElement> elements) {}

    // ------------------------------------------------------------ operands
    sealed interface SetValue permits Operand, Arith, IfNotExists, ListAppend {}

    sealed interface Operand extends SetValue permits PathOperand, ValueRef, Size {}

    record PathOperand(Path path) implements Operand {}

    record ValueRef(String name) implements Operand {}

    record Size(Path path) implements Operand {}

    record Arith(char op, SetValue left, SetValue right) implements SetValue {}

    record IfNotExists(Path path, SetValue fallback) implements SetValue {}

    record ListAppend(SetValue first, SetValue second) implements SetValue {}

    // ------------------------------------------------------------ conditions
    sealed interface Cond permits Compare, Between, In, And, Or, Not, Function {}

    record Compare(String op, Operand left, Operand right) implements Cond {}

    record Between(Operand value, Operand low, Operand high) implements Cond {}

    record In(Operand value, List<Operand> candidates) implements Cond {}

    record And(Cond left, Cond right) implements Cond {}

    record Or(Cond left, Cond right) implements Cond {}

    record Not(Cond inner) implements Cond {}

    record Function(String name, List<Operand> args) implements Cond {}

    // ------------------------------------------------------------ update expressions
    record SetAction(Path path, SetValue value) {}

    record AddAction(Path path, ValueRef value) {}

    record DeleteAction(Path path, ValueRef value) {}

    record Update(List<SetAction> sets, List<Path> removes, List<AddAction> adds, List<DeleteAction> deletes) {}

    /** A parsed expression with the placeholders it uses (for DynamoDB's unused/undefined checks). */
    record Parsed<T>(T ast, Set<String> names, Set<String> values) {}
}
