package io.durablesessions.local.dynamodb;

import io.durablesessions.local.dynamodb.Expr.AddAction;
import io.durablesessions.local.dynamodb.Expr.And;
import io.durablesessions.local.dynamodb.Expr.Arith;
import io.durablesessions.local.dynamodb.Expr.Between;
import io.durablesessions.local.dynamodb.Expr.Compare;
import io.durablesessions.local.dynamodb.Expr.Cond;
import io.durablesessions.local.dynamodb.Expr.DeleteAction;
import io.durablesessions.local.dynamodb.Expr.Function;
import io.durablesessions.local.dynamodb.Expr.IfNotExists;
import io.durablesessions.local.dynamodb.Expr.In;
import io.durablesessions.local.dynamodb.Expr.Index;
import io.durablesessions.local.dynamodb.Expr.ListAppend;
import io.durablesessions.local.dynamodb.Expr.Name;
import io.durablesessions.local.dynamodb.Expr.Not;
import io.durablesessions.local.dynamodb.Expr.Operand;
import io.durablesessions.local.dynamodb.Expr.Or;
import io.durablesessions.local.dynamodb.Expr.Parsed;
import io.durablesessions.local.dynamodb.Expr.Path;
import io.durablesessions.local.dynamodb.Expr.PathElement;
import io.durablesessions.local.dynamodb.Expr.PathOperand;
import io.durablesessions.local.dynamodb.Expr.SetAction;
import io.durablesessions.local.dynamodb.Expr.SetValue;
import io.durablesessions.local.dynamodb.Expr.Size;
import io.durablesessions.local.dynamodb.Expr.Update;
import io.durablesessions.local.dynamodb.Expr.ValueRef;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokenizer and recursive-descent parser for condition, filter, key-condition, update and projection
 * expressions. Parsed expressions are immutable and cached by their text.
 */
final class ExpressionParser {
    enum Kind {
        CONDITION,
        UPDATE,
        PROJECTION
    }

    private static final Map<String, Parsed<?>> CACHE = new ConcurrentHashMap<>();
    private static final int CACHE_LIMIT = 10_000;

    private enum T {
        IDENT,
        NAME,
        VALUE,
        NUMBER,
        SYM,
        EOF
    }

    private record Token(T type, String text, int pos) {
        boolean is(String s) {
            return (type == T.SYM && text.equals(s)) || (type == T.IDENT && text.equalsIgnoreCase(s));
        }
    }

    private final String label; // e.g. "ConditionExpression", used in error messages
    private final String source;
    private final List<Token> tokens;
    private final Set<String> names = new LinkedHashSet<>();
    private final Set<String> values = new LinkedHashSet<>();
    private int p;

    private ExpressionParser(String label, String source) {
        this.label = label;
        this.source = source;
        this.tokens = tokenize();
    }

    @SuppressWarnings("unchecked")
    static Parsed<Cond> condition(String label, String text) {
        return (Parsed<Cond>) parse(Kind.CONDITION, label, text);
    }

    @SuppressWarnings("unchecked")
    static Parsed<Update> update(String text) {
        return (Parsed<Update>) parse(Kind.UPDATE, "UpdateExpression", text);
    }

    @SuppressWarnings("unchecked")
    static Parsed<List<Path>> projection(String text) {
        return (Parsed<List<Path>>) parse(Kind.PROJECTION, "ProjectionExpression", text);
    }

    private static Parsed<?> parse(Kind kind, String label, String text) {
        String key = kind + "\u0000" + label + "\u0000" + text;
        Parsed<?> cached = CACHE.get(key);
        if (cached != null) return cached;
        if (text.isBlank()) throw ApiError.validation("Invalid " + label + ": The expression can not be empty;");
        ExpressionParser parser = new ExpressionParser(label, text);
        Object ast = switch (kind) {
            case CONDITION -> parser.condition();
            case UPDATE -> parser.updateExpression();
            case PROJECTION -> parser.projectionList();
        };
        parser.expectEnd();
        Parsed<?> parsed = new Parsed<>(ast, Set.copyOf(parser.names), Set.copyOf(parser.values));
        if (CACHE.size() > CACHE_LIMIT) CACHE.clear();
        CACHE.put(key, parsed);
        return parsed;
    }

    // ---------------------------------------------------------------- tokenizer

    private List<Token> tokenize() {
        List<Token> out = new ArrayList<>();
        int i = 0, n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            int start = i;
            if (c == '#' || c == ':') {
                i++;
                while (i < n && isWordChar(source.charAt(i))) i++;
                if (i == start + 1) throw syntax(String.valueOf(c), start);
                String text = source.substring(start, i);
                if (c == '#') names.add(text);
                else values.add(text);
                out.add(new Token(c == '#' ? T.NAME : T.VALUE, text, start));
            } else if (Character.isDigit(c)) {
                while (i < n && Character.isDigit(source.charAt(i))) i++;
                out.add(new Token(T.NUMBER, source.substring(start, i), start));
            } else if (isWordChar(c)) {
                while (i < n && isWordChar(source.charAt(i))) i++;
                out.add(new Token(T.IDENT, source.substring(start, i), start));
            } else if (c == '<' && i + 1 < n && (source.charAt(i + 1) == '=' || source.charAt(i + 1) == '>')) {
                out.add(new Token(T.SYM, source.substring(i, i + 2), start));
                i += 2;
            } else if (c == '>' && i + 1 < n && source.charAt(i + 1) == '=') {
                out.add(new Token(T.SYM, ">=", start));
                i += 2;
            } else if ("=<>(),.[]+-".indexOf(c) >= 0) {
                out.add(new Token(T.SYM, String.valueOf(c), start));
                i++;
            } else {
                throw ApiError.validation("Invalid " + label + ": Invalid character encountered; character: " + c
                        + ", near: \"" + near(start) + "\"");
            }
        }
        out.add(new Token(T.EOF, "<EOF>", n));
        return out;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    // ---------------------------------------------------------------- helpers

    private Token peek() {
        return tokens.get(p);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(p + ahead, tokens.size() - 1));
    }

    private Token next() {
        return tokens.get(p++);
    }

    private Token expect(String s) {
        Token t = next();
        if (!t.is(s)) throw syntax(t);
        return t;
    }

    private void expectEnd() {
        if (peek().type != T.EOF) throw syntax(peek());
    }

    private String near(int pos) {
        return source.substring(Math.max(0, pos - 10), Math.min(source.length(), pos + 10));
    }

    private ApiError syntax(Token t) {
        return syntax(t.text, t.pos);
    }

    private ApiError syntax(String token, int pos) {
        return ApiError.validation(
                "Invalid " + label + ": Syntax error; token: \"" + token + "\", near: \"" + near(pos) + "\"");
    }

    private ApiError invalid(String message) {
        return ApiError.validation("Invalid " + label + ": " + message);
    }

    private static boolean isKeyword(Token t, String... words) {
        if (t.type != T.IDENT) return false;
        for (String w : words) if (t.text.equalsIgnoreCase(w)) return true;
        return false;
    }

    // ---------------------------------------------------------------- conditions: OR < AND < NOT < predicate

    private Cond condition() {
        Cond left = andCondition();
        while (isKeyword(peek(), "OR")) {
            next();
            left = new Or(left, andCondition());
        }
        return left;
    }

    private Cond andCondition() {
        Cond left = notCondition();
        while (isKeyword(peek(), "AND")) {
            next();
            left = new And(left, notCondition());
        }
        return left;
    }

    private Cond notCondition() {
        if (isKeyword(peek(), "NOT")) {
            next();
            return new Not(notCondition());
        }
        return predicate();
    }

    private Cond predicate() {
        Token t = peek();
        if (t.is("(")) {
            next();
            Cond inner = condition();
            expect(")");
            return inner;
        }
        if (t.type == T.IDENT && peek(1).is("(") && !t.text.equals("size")) {
            return function();
        }
        Operand left = operand();
        Token op = next();
        if (op.type == T.SYM && List.of("=", "<>", "<", "<=", ">", ">=").contains(op.text)) {
            return new Compare(op.text, left, operand());
        }
        if (isKeyword(op, "BETWEEN")) {
            Operand low = operand();
            if (!isKeyword(peek(), "AND")) throw syntax(peek());
            next();
            return new Between(left, low, operand());
        }
        if (isKeyword(op, "IN")) {
            expect("(");
            List<Operand> candidates = new ArrayList<>();
            candidates.add(operand());
            while (peek().is(",")) {
                next();
                candidates.add(operand());
            }
            expect(")");
            if (candidates.size() > 100)
                throw invalid(
                        "The IN operator is provided with too many operands; number of operands: " + candidates.size());
            return new In(left, candidates);
        }
        throw syntax(op);
    }

    private Cond function() {
        Token name = next();
        expect("(");
        List<Operand> args = new ArrayList<>();
        if (!peek().is(")")) {
            args.add(operand());
            while (peek().is(",")) {
                next();
                args.add(operand());
            }
        }
        expect(")");
        int arity = switch (name.text) {
            case "attribute_exists", "attribute_not_exists" -> 1;
            case "attribute_type", "begins_with", "contains" -> 2;
            case "if_not_exists", "list_append" ->
                throw invalid(
                        "The function is not allowed to be used this way in an expression; function: " + name.text);
            default -> throw invalid("Invalid function name; function: " + name.text);
        };
        if (args.size() != arity)
            throw invalid("Incorrect number of operands for operator or function; operator or function: " + name.text
                    + ", number of operands: " + args.size());
        if (!(args.get(0) instanceof PathOperand)
                && !name.text.equals("contains")
                && !name.text.equals("begins_with")) {
            throw invalid("Operator or function requires a document path; operator or function: " + name.text);
        }
        return new Function(name.text, List.copyOf(args));
    }

    private Operand operand() {
        Token t = peek();
        if (t.type == T.VALUE) {
            next();
            return new ValueRef(t.text);
        }
        if (t.type == T.IDENT && t.text.equals("size") && peek(1).is("(")) {
            next();
            next();
            Path path = path();
            expect(")");
            return new Size(path);
        }
        if (t.type == T.IDENT && peek(1).is("(")) {
            throw invalid("The function is not allowed to be used this way in an expression; function: " + t.text);
        }
        return new PathOperand(path());
    }

    private Path path() {
        List<PathElement> elements = new ArrayList<>();
        elements.add(pathName());
        while (true) {
            if (peek().is(".")) {
                next();
                elements.add(pathName());
            } else if (peek().is("[")) {
                next();
                Token n = next();
                if (n.type != T.NUMBER) throw syntax(n);
                expect("]");
                elements.add(new Index(Integer.parseInt(n.text)));
            } else {
                return new Path(List.copyOf(elements));
            }
        }
    }

    private Name pathName() {
        Token t = next();
        if (t.type == T.NAME) return new Name(t.text);
        if (t.type == T.IDENT && !Character.isDigit(t.text.charAt(0))) {
            if (ReservedWords.is(t.text)) {
                throw invalid("Attribute name is a reserved keyword; reserved keyword: " + t.text);
            }
            return new Name(t.text);
        }
        throw syntax(t);
    }

    // ---------------------------------------------------------------- update expressions

    private Update updateExpression() {
        List<SetAction> sets = new ArrayList<>();
        List<Path> removes = new ArrayList<>();
        List<AddAction> adds = new ArrayList<>();
        List<DeleteAction> deletes = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        do {
            Token clause = next();
            String kw = clause.text.toUpperCase(Locale.ROOT);
            if (clause.type != T.IDENT
                    || !List.of("SET", "REMOVE", "ADD", "DELETE").contains(kw)) throw syntax(clause);
            if (!seen.add(kw))
                throw invalid("The \"" + kw + "\" section can only be used once in an update expression;");
            do {
                switch (kw) {
                    case "SET" -> {
                        Path path = path();
                        expect("=");
                        sets.add(new SetAction(path, setValue()));
                    }
                    case "REMOVE" -> removes.add(path());
                    case "ADD" -> adds.add(new AddAction(path(), valueRef()));
                    default -> deletes.add(new DeleteAction(path(), valueRef()));
                }
            } while (peek().is(",") && next() != null);
        } while (peek().type != T.EOF);
        return new Update(List.copyOf(sets), List.copyOf(removes), List.copyOf(adds), List.copyOf(deletes));
    }

    private ValueRef valueRef() {
        Token t = next();
        if (t.type != T.VALUE) throw syntax(t);
        return new ValueRef(t.text);
    }

    private SetValue setValue() {
        SetValue left = setOperand();
        if (peek().is("+") || peek().is("-")) {
            char op = next().text.charAt(0);
            return new Arith(op, left, setOperand());
        }
        return left;
    }

    private SetValue setOperand() {
        Token t = peek();
        if (t.type == T.IDENT && peek(1).is("(")) {
            next();
            next();
            SetValue result = switch (t.text) {
                case "if_not_exists" -> {
                    Path path = path();
                    expect(",");
                    yield new IfNotExists(path, setOperand());
                }
                case "list_append" -> {
                    SetValue a = setOperand();
                    expect(",");
                    yield new ListAppend(a, setOperand());
                }
                case "size", "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains" ->
                    throw invalid("The function is not allowed in an update expression; function: " + t.text);
                default -> throw invalid("Invalid function name; function: " + t.text);
            };
            expect(")");
            return result;
        }
        if (t.type == T.VALUE) {
            next();
            return new ValueRef(t.text);
        }
        return new PathOperand(path());
    }

    // ---------------------------------------------------------------- projections

    private List<Path> projectionList() {
        List<Path> paths = new ArrayList<>();
        paths.add(path());
        while (peek().is(",")) {
            next();
            paths.add(path());
        }
        return List.copyOf(paths);
    }
}
