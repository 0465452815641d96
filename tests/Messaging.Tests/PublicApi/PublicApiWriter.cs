using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Messaging.Tests.PublicApi;

/// <summary>
/// Writes the public surface of an assembly as deterministic, C#-like text: every public or protected type and
/// member, with full signatures (nullability, generic constraints, parameter names and defaults, ref kinds),
/// enum and constant values, and the attributes that matter to callers (Obsolete, Flags, …). Lines are sorted.
/// </summary>
internal static class PublicApiWriter
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    // Attributes that are compiler bookkeeping, not API. Everything else is written.
    private static readonly HashSet<string> IgnoredAttributes = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.NullableAttribute",
        "System.Runtime.CompilerServices.NullableContextAttribute",
        "System.Runtime.CompilerServices.NullablePublicOnlyAttribute",
        "System.Runtime.CompilerServices.CompilerGeneratedAttribute",
        "System.Runtime.CompilerServices.ExtensionAttribute",
        "System.Runtime.CompilerServices.IsReadOnlyAttribute",
        "System.Runtime.CompilerServices.IsByRefLikeAttribute",
        "System.Runtime.CompilerServices.IsUnmanagedAttribute",
        "System.Runtime.CompilerServices.AsyncStateMachineAttribute",
        "System.Runtime.CompilerServices.IteratorStateMachineAttribute",
        "System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute",
        "System.Runtime.CompilerServices.TupleElementNamesAttribute",
        "System.Runtime.CompilerServices.RequiredMemberAttribute",
        "System.Runtime.CompilerServices.CompilerFeatureRequiredAttribute",
        "System.Runtime.CompilerServices.RefSafetyRulesAttribute",
        "System.Runtime.CompilerServices.ScopedRefAttribute",
        "System.Runtime.CompilerServices.PreserveBaseOverridesAttribute",
        "System.Runtime.CompilerServices.IsExternalInit",
        "System.Runtime.CompilerServices.ParamCollectionAttribute",
        "System.Runtime.CompilerServices.RequiresLocationAttribute",
        "System.ParamArrayAttribute",
        "System.Reflection.DefaultMemberAttribute",
        "System.Diagnostics.DebuggerBrowsableAttribute",
        "System.Diagnostics.DebuggerHiddenAttribute",
        "System.Diagnostics.DebuggerStepThroughAttribute",
        "System.Diagnostics.DebuggerNonUserCodeAttribute",
        "System.CodeDom.Compiler.GeneratedCodeAttribute",
        "System.Runtime.InteropServices.InAttribute",
        "System.Runtime.InteropServices.OutAttribute",
        "System.Runtime.InteropServices.OptionalAttribute",
        "System.Runtime.Versioning.NonVersionableAttribute",
    };

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void",
        [typeof(object)] = "object",
        [typeof(string)] = "string",
        [typeof(bool)] = "bool",
        [typeof(byte)] = "byte",
        [typeof(sbyte)] = "sbyte",
        [typeof(char)] = "char",
        [typeof(short)] = "short",
        [typeof(ushort)] = "ushort",
        [typeof(int)] = "int",
        [typeof(uint)] = "uint",
        [typeof(long)] = "long",
        [typeof(ulong)] = "ulong",
        [typeof(float)] = "float",
        [typeof(double)] = "double",
        [typeof(decimal)] = "decimal",
        [typeof(nint)] = "nint",
        [typeof(nuint)] = "nuint",
    };

    public static string Write(Assembly assembly)
    {
        var nullability = new NullabilityInfoContext();
        var blocks = new List<(string Key, string Text)>();
        foreach (var type in assembly.GetTypes())
        {
            if (IsVisible(type))
            {
                blocks.Add((TypeName(type, qualified: true), WriteType(type, nullability)));
            }
        }

        blocks.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder();
        text.Append("// Public API of ").Append(assembly.GetName().Name).Append('\n');
        foreach (var (_, block) in blocks)
        {
            text.Append('\n').Append(block);
        }

        return text.ToString();
    }

    private static bool IsVisible(Type type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            var visible = t.IsPublic || t.IsNestedPublic || t.IsNestedFamily || t.IsNestedFamORAssem;
            if (!visible)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsVisible(MethodBase? method) =>
        method is not null && (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly);

    private static bool IsVisible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    private static string WriteType(Type type, NullabilityInfoContext nullability)
    {
        var text = new StringBuilder();
        foreach (var attribute in Attributes(type.GetCustomAttributesData()))
        {
            text.Append(attribute).Append('\n');
        }

        text.Append(TypeHeader(type)).Append('\n');
        text.Append("{\n");

        var members = new List<(int Order, string Name, string Text)>();
        if (type.IsEnum)
        {
            var fields = type.GetFields(BindingFlags.Public | BindingFlags.Static)
                .OrderBy(f => Convert.ToDecimal(f.GetRawConstantValue(), CultureInfo.InvariantCulture))
                .ThenBy(f => f.Name, StringComparer.Ordinal)
                .ToList();
            for (var i = 0; i < fields.Count; i++)
            {
                var value = Convert.ToString(fields[i].GetRawConstantValue(), CultureInfo.InvariantCulture);
                members.Add((i, fields[i].Name, Prefix(fields[i].GetCustomAttributesData()) + fields[i].Name + " = " + value + ","));
            }
        }
        else if (!IsDelegate(type))
        {
            CollectMembers(type, nullability, members);
        }

        members.Sort((a, b) => a.Order != b.Order ? a.Order.CompareTo(b.Order) : a.Name != b.Name ? string.CompareOrdinal(a.Name, b.Name) : string.CompareOrdinal(a.Text, b.Text));
        foreach (var (_, _, member) in members)
        {
            foreach (var line in member.Split('\n'))
            {
                text.Append("    ").Append(line).Append('\n');
            }
        }

        text.Append("}\n");
        return text.ToString();
    }

    private static void CollectMembers(Type type, NullabilityInfoContext nullability, List<(int Order, string Name, string Text)> members)
    {
        foreach (var field in type.GetFields(Declared))
        {
            if (IsVisible(field) && !field.IsSpecialName && !IsCompilerNamed(field.Name))
            {
                members.Add((0, field.Name, Field(field, nullability)));
            }
        }

        foreach (var constructor in type.GetConstructors(Declared))
        {
            if (IsVisible(constructor) && !constructor.IsStatic)
            {
                members.Add((1, ".ctor", Prefix(constructor.GetCustomAttributesData()) + Visibility(constructor) + " " + TypeName(type, qualified: false, withArity: false) + Parameters(constructor, nullability) + ";"));
            }
        }

        foreach (var property in type.GetProperties(Declared))
        {
            var getter = IsVisible(property.GetMethod) ? property.GetMethod : null;
            var setter = IsVisible(property.SetMethod) ? property.SetMethod : null;
            if (getter is not null || setter is not null)
            {
                members.Add((2, property.Name, Property(property, getter, setter, nullability)));
            }
        }

        foreach (var @event in type.GetEvents(Declared))
        {
            var add = @event.AddMethod;
            if (IsVisible(add))
            {
                members.Add((3, @event.Name, Prefix(@event.GetCustomAttributesData()) + Visibility(add!) + Modifiers(add!, type) + "event " + TypeName(@event.EventHandlerType!, nullability.Create(@event)) + " " + @event.Name + ";"));
            }
        }

        foreach (var method in type.GetMethods(Declared))
        {
            var include = IsVisible(method)
                && (!method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal))
                && !IsCompilerNamed(method.Name);
            if (include)
            {
                members.Add((4, method.Name, Method(method, type, nullability)));
            }
        }
    }

    private static bool IsCompilerNamed(string name) => name.Contains('<', StringComparison.Ordinal);

    private static string Field(FieldInfo field, NullabilityInfoContext nullability)
    {
        var text = new StringBuilder(Prefix(field.GetCustomAttributesData()));
        text.Append(field.IsPublic ? "public " : field.IsFamilyOrAssembly ? "protected internal " : "protected ");
        if (field.IsLiteral)
        {
            text.Append("const ").Append(TypeName(field.FieldType, nullability.Create(field))).Append(' ').Append(field.Name)
                .Append(" = ").Append(Literal(field.GetRawConstantValue(), field.FieldType)).Append(';');
            return text.ToString();
        }

        if (field.IsStatic)
        {
            text.Append("static ");
        }

        if (field.IsInitOnly)
        {
            text.Append("readonly ");
        }

        text.Append(TypeName(field.FieldType, nullability.Create(field))).Append(' ').Append(field.Name).Append(';');
        return text.ToString();
    }

    private static string Property(PropertyInfo property, MethodInfo? getter, MethodInfo? setter, NullabilityInfoContext nullability)
    {
        var accessor = (getter ?? setter)!;
        var widest = getter is not null && setter is not null && Rank(setter) > Rank(getter) ? setter : accessor;
        var text = new StringBuilder(Prefix(property.GetCustomAttributesData()));
        text.Append(Visibility(widest)).Append(Modifiers(widest, property.DeclaringType!));
        if (!IsOverride(widest) && HidesInherited(property.DeclaringType!, property.Name, null))
        {
            text.Append("new ");
        }

        if (property.IsDefined(typeof(RequiredMemberAttribute), inherit: false))
        {
            text.Append("required ");
        }

        text.Append(TypeName(property.PropertyType, nullability.Create(property))).Append(' ');
        var index = property.GetIndexParameters();
        if (index.Length > 0)
        {
            text.Append("this[").Append(string.Join(", ", index.Select(p => Parameter(p, nullability)))).Append(']');
        }
        else
        {
            text.Append(property.Name);
        }

        text.Append(" { ");
        if (getter is not null)
        {
            text.Append(AccessorVisibility(getter, widest)).Append("get; ");
        }

        if (setter is not null)
        {
            var init = setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit");
            text.Append(AccessorVisibility(setter, widest)).Append(init ? "init; " : "set; ");
        }

        text.Append('}');
        return text.ToString();
    }

    private static int Rank(MethodBase method) => method.IsPublic ? 3 : method.IsFamilyOrAssembly ? 2 : 1;

    private static string AccessorVisibility(MethodBase accessor, MethodBase widest) =>
        Rank(accessor) == Rank(widest) ? string.Empty : Visibility(accessor) + " ";

    private static string Method(MethodInfo method, Type declaringType, NullabilityInfoContext nullability)
    {
        var text = new StringBuilder(Prefix(method.GetCustomAttributesData()));
        var returnAttributes = Attributes(method.ReturnParameter.GetCustomAttributesData()).ToList();
        foreach (var attribute in returnAttributes)
        {
            text.Append("[return: ").Append(attribute[1..]).Append('\n');
        }

        text.Append(Visibility(method)).Append(Modifiers(method, declaringType));
        if (!IsOverride(method) && HidesInherited(declaringType, method.Name, method.GetParameters().Select(p => p.ParameterType).ToArray()))
        {
            text.Append("new ");
        }

        var returnType = method.ReturnType;
        if (returnType.IsByRef)
        {
            text.Append(method.ReturnParameter.GetCustomAttributesData().Any(a => a.AttributeType.Name == "IsReadOnlyAttribute") ? "ref readonly " : "ref ");
        }

        text.Append(TypeName(returnType, nullability.Create(method.ReturnParameter))).Append(' ').Append(method.Name);
        if (method.IsGenericMethodDefinition)
        {
            text.Append('<').Append(string.Join(", ", method.GetGenericArguments().Select(GenericParameterName))).Append('>');
        }

        text.Append(Parameters(method, nullability));
        if (method.IsGenericMethodDefinition)
        {
            text.Append(Constraints(method.GetGenericArguments()));
        }

        text.Append(';');
        return text.ToString();
    }

    private static string Visibility(MethodBase method) =>
        method.IsPublic ? "public" : method.IsFamilyOrAssembly ? "protected internal" : method.IsFamily ? "protected" : method.IsFamilyAndAssembly ? "private protected" : "private";

    private static string Modifiers(MethodBase method, Type declaringType)
    {
        var text = new StringBuilder(" ");
        if (method.IsStatic)
        {
            text.Append("static ");
        }

        if (declaringType.IsInterface)
        {
            if (method.IsStatic && method.IsAbstract)
            {
                text.Append("abstract ");
            }

            return text.ToString();
        }

        if (method is MethodInfo info)
        {
            var isOverride = method.IsVirtual && info.GetBaseDefinition().DeclaringType != info.DeclaringType;
            if (method.IsAbstract)
            {
                text.Append(isOverride ? "abstract override " : "abstract ");
            }
            else if (isOverride)
            {
                text.Append(method.IsFinal ? "sealed override " : "override ");
            }
            else if (method.IsVirtual && !method.IsFinal)
            {
                text.Append("virtual ");
            }
        }

        return text.ToString();
    }

    private static bool IsOverride(MethodBase method) =>
        method is MethodInfo info && method.IsVirtual && info.GetBaseDefinition().DeclaringType != info.DeclaringType;

    /// <summary>Whether a visible member of a base type has the same name (and, for methods, parameter types).</summary>
    private static bool HidesInherited(Type type, string name, Type[]? parameterTypes)
    {
        if (type.IsInterface)
        {
            return false;
        }

        for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
        {
            foreach (var member in baseType.GetMember(name, Declared))
            {
                var visible = member switch
                {
                    MethodInfo m => IsVisible(m) && (parameterTypes is null || SameParameters(m, parameterTypes)),
                    PropertyInfo p => parameterTypes is null && (IsVisible(p.GetMethod) || IsVisible(p.SetMethod)),
                    FieldInfo f => parameterTypes is null && IsVisible(f),
                    _ => false,
                };
                if (visible)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool SameParameters(MethodInfo method, Type[] parameterTypes)
    {
        var parameters = method.GetParameters();
        return parameters.Length == parameterTypes.Length
            && parameters.Select(p => p.ParameterType.ToString()).SequenceEqual(parameterTypes.Select(t => t.ToString()), StringComparer.Ordinal);
    }

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability)
    {
        var parameters = method.GetParameters();
        var extension = method.IsDefined(typeof(ExtensionAttribute), inherit: false);
        var items = parameters.Select((p, i) => (i == 0 && extension ? "this " : string.Empty) + Parameter(p, nullability));
        return "(" + string.Join(", ", items) + ")";
    }

    private static string Parameter(ParameterInfo parameter, NullabilityInfoContext nullability)
    {
        var text = new StringBuilder(Prefix(parameter.GetCustomAttributesData(), inline: true));
        if (parameter.IsDefined(typeof(ParamArrayAttribute), inherit: false)
            || parameter.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.ParamCollectionAttribute"))
        {
            text.Append("params ");
        }

        var type = parameter.ParameterType;
        if (type.IsByRef)
        {
            var attributes = parameter.GetCustomAttributesData();
            if (parameter.IsOut)
            {
                text.Append("out ");
            }
            else if (attributes.Any(a => a.AttributeType.Name == "RequiresLocationAttribute"))
            {
                text.Append("ref readonly ");
            }
            else if (attributes.Any(a => a.AttributeType.Name == "IsReadOnlyAttribute") || parameter.IsIn)
            {
                text.Append("in ");
            }
            else
            {
                text.Append("ref ");
            }
        }

        if (parameter.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.ScopedRefAttribute"))
        {
            text.Insert(0, "scoped ");
        }

        text.Append(TypeName(type, nullability.Create(parameter))).Append(' ').Append(parameter.Name);
        if (parameter.HasDefaultValue)
        {
            text.Append(" = ").Append(Literal(parameter.RawDefaultValue, type.IsByRef ? type.GetElementType()! : type));
        }

        return text.ToString();
    }

    private static string Literal(object? value, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (value is null or DBNull or Missing)
        {
            return underlying.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null";
        }

        if (underlying.IsEnum)
        {
            var name = Enum.GetName(underlying, value);
            return name is not null
                ? TypeName(underlying, qualified: true) + "." + name
                : "(" + TypeName(underlying, qualified: true) + ")" + Convert.ToString(value, CultureInfo.InvariantCulture);
        }

        return value switch
        {
            string s => "\"" + Escape(s) + "\"",
            char c => "'" + Escape(c.ToString()) + "'",
            bool b => b ? "true" : "false",
            float f => f.ToString("R", CultureInfo.InvariantCulture) + "f",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            decimal m => m.ToString(CultureInfo.InvariantCulture) + "m",
            long l => l.ToString(CultureInfo.InvariantCulture) + "L",
            ulong ul => ul.ToString(CultureInfo.InvariantCulture) + "UL",
            uint ui => ui.ToString(CultureInfo.InvariantCulture) + "U",
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        };
    }

    private static string Escape(string s)
    {
        var text = new StringBuilder();
        foreach (var c in s)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\'' => "\\'",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                _ when char.IsControl(c) || c > '~' => "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return text.ToString();
    }

    private static string TypeHeader(Type type)
    {
        var text = new StringBuilder();
        text.Append(type.IsPublic || type.IsNestedPublic ? "public " : type.IsNestedFamORAssem ? "protected internal " : "protected ");
        if (IsDelegate(type))
        {
            var invoke = type.GetMethod("Invoke")!;
            var nullability = new NullabilityInfoContext();
            text.Append("delegate ").Append(TypeName(invoke.ReturnType, nullability.Create(invoke.ReturnParameter))).Append(' ')
                .Append(TypeName(type, qualified: true)).Append(Parameters(invoke, nullability)).Append(Constraints(OwnGenericArguments(type))).Append(';');
            return text.ToString();
        }

        if (type.IsEnum)
        {
            text.Append("enum ").Append(TypeName(type, qualified: true)).Append(" : ").Append(TypeName(Enum.GetUnderlyingType(type), qualified: true));
            return text.ToString();
        }

        if (type.IsInterface)
        {
            text.Append("interface ");
        }
        else if (type.IsValueType)
        {
            if (type.IsDefined(typeof(IsReadOnlyAttribute), inherit: false))
            {
                text.Append("readonly ");
            }

            if (type.IsByRefLike)
            {
                text.Append("ref ");
            }

            text.Append(IsRecord(type) ? "record struct " : "struct ");
        }
        else
        {
            if (type.IsAbstract && type.IsSealed)
            {
                text.Append("static ");
            }
            else if (type.IsAbstract)
            {
                text.Append("abstract ");
            }
            else if (type.IsSealed)
            {
                text.Append("sealed ");
            }

            text.Append(IsRecord(type) ? "record " : "class ");
        }

        text.Append(TypeName(type, qualified: true));
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType))
        {
            bases.Add(TypeName(baseType, (NullabilityInfo?)null));
        }

        var inherited = type.BaseType?.GetInterfaces() ?? [];
        bases.AddRange(type.GetInterfaces()
            .Where(i => !inherited.Contains(i) && (i.IsPublic || i.IsNestedPublic))
            .Select(i => TypeName(i, (NullabilityInfo?)null))
            .Order(StringComparer.Ordinal));
        if (bases.Count > 0)
        {
            text.Append(" : ").Append(string.Join(", ", bases));
        }

        text.Append(Constraints(OwnGenericArguments(type)));
        return text.ToString();
    }

    private static bool IsDelegate(Type type) => typeof(MulticastDelegate).IsAssignableFrom(type.BaseType);

    private static bool IsRecord(Type type) =>
        type.GetMethod("<Clone>$", Declared) is not null
        || (type.IsValueType && type.GetMethod("PrintMembers", Declared) is { } print && print.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false));

    private static Type[] OwnGenericArguments(Type type)
    {
        if (!type.IsGenericTypeDefinition)
        {
            return [];
        }

        var all = type.GetGenericArguments();
        var inheritedCount = type.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments().Length : 0;
        return all[inheritedCount..];
    }

    private static string Constraints(Type[] parameters)
    {
        var text = new StringBuilder();
        foreach (var parameter in parameters)
        {
            var items = new List<string>();
            var attributes = parameter.GenericParameterAttributes;
            var isStruct = (attributes & GenericParameterAttributes.NotNullableValueTypeConstraint) != 0;
            if (parameter.IsDefined(typeof(IsUnmanagedAttribute), inherit: false))
            {
                items.Add("unmanaged");
            }
            else if (isStruct)
            {
                items.Add("struct");
            }
            else if ((attributes & GenericParameterAttributes.ReferenceTypeConstraint) != 0)
            {
                items.Add(NullableFlag(parameter) == 2 ? "class?" : "class");
            }

            var types = parameter.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).ToList();
            if (items.Count == 0 && types.Count == 0 && NullableFlag(parameter) == 1)
            {
                items.Add("notnull");
            }

            items.AddRange(types.Select(c => TypeName(c, (NullabilityInfo?)null)).Order(StringComparer.Ordinal));
            if ((attributes & GenericParameterAttributes.DefaultConstructorConstraint) != 0 && !isStruct)
            {
                items.Add("new()");
            }

            if (((int)attributes & 0x20) != 0)
            {
                items.Add("allows ref struct");
            }

            if (items.Count > 0)
            {
                text.Append(" where ").Append(parameter.Name).Append(" : ").Append(string.Join(", ", items));
            }
        }

        return text.ToString();
    }

    /// <summary>The nullable metadata flag of a type parameter (0 oblivious, 1 not annotated, 2 annotated).</summary>
    private static int NullableFlag(Type parameter)
    {
        var own = FlagOf(parameter.GetCustomAttributesData(), "System.Runtime.CompilerServices.NullableAttribute");
        if (own is not null)
        {
            return own.Value;
        }

        if (parameter.DeclaringMethod is { } method && FlagOf(method.GetCustomAttributesData(), "System.Runtime.CompilerServices.NullableContextAttribute") is { } fromMethod)
        {
            return fromMethod;
        }

        for (var type = parameter.DeclaringMethod?.DeclaringType ?? parameter.DeclaringType; type is not null; type = type.DeclaringType)
        {
            if (FlagOf(type.GetCustomAttributesData(), "System.Runtime.CompilerServices.NullableContextAttribute") is { } fromType)
            {
                return fromType;
            }
        }

        return 0;
    }

    private static int? FlagOf(IList<CustomAttributeData> attributes, string attributeName)
    {
        foreach (var attribute in attributes)
        {
            if (attribute.AttributeType.FullName == attributeName && attribute.ConstructorArguments.Count == 1)
            {
                return attribute.ConstructorArguments[0].Value switch
                {
                    byte b => b,
                    IReadOnlyCollection<CustomAttributeTypedArgument> { Count: > 0 } array => (byte)array.First().Value!,
                    _ => null,
                };
            }
        }

        return null;
    }

    private static string GenericParameterName(Type parameter)
    {
        var variance = parameter.GenericParameterAttributes & GenericParameterAttributes.VarianceMask;
        var prefix = variance == GenericParameterAttributes.Covariant ? "out " : variance == GenericParameterAttributes.Contravariant ? "in " : string.Empty;
        return prefix + parameter.Name;
    }

    /// <summary>A type's name, qualified with its namespace (and declaring types), generic parameters included.</summary>
    private static string TypeName(Type type, bool qualified, bool withArity = true)
    {
        if (Keywords.TryGetValue(type, out var keyword))
        {
            return keyword;
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        if (!withArity)
        {
            return name;
        }

        var own = type.IsGenericTypeDefinition ? OwnGenericArguments(type) : [];
        if (own.Length > 0)
        {
            name += "<" + string.Join(", ", own.Select(GenericParameterName)) + ">";
        }

        if (!qualified)
        {
            return name;
        }

        if (type.DeclaringType is { } declaring)
        {
            return TypeName(declaring, qualified: true) + "." + name;
        }

        return string.IsNullOrEmpty(type.Namespace) ? name : type.Namespace + "." + name;
    }

    /// <summary>A type as used in a signature, with nullable reference annotations.</summary>
    private static string TypeName(Type type, NullabilityInfo? info)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, info?.ElementType ?? info);
        }

        if (type.IsPointer)
        {
            return TypeName(type.GetElementType()!, null) + "*";
        }

        if (type.IsArray)
        {
            var rank = type.GetArrayRank();
            return TypeName(type.GetElementType()!, info?.ElementType) + "[" + new string(',', rank - 1) + "]" + NullableMark(type, info);
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying, info?.GenericTypeArguments.FirstOrDefault()) + "?";
        }

        if (type.IsGenericParameter)
        {
            // Nullability of a type parameter's use cannot be told apart reliably (T vs T?) from reflection.
            return type.Name;
        }

        if (type.IsGenericType && type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true)
        {
            var items = type.GetGenericArguments().Select((a, i) => TypeName(a, ElementInfo(info, i)));
            return "(" + string.Join(", ", items) + ")";
        }

        var text = new StringBuilder();
        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var arguments = type.GetGenericArguments();
            var declaringArguments = definition.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments().Length : 0;
            var prefix = definition.DeclaringType is { } outer
                ? TypeName(outer.IsGenericTypeDefinition && declaringArguments > 0 ? outer.MakeGenericType(arguments[..declaringArguments]) : outer, null) + "."
                : (string.IsNullOrEmpty(definition.Namespace) ? string.Empty : definition.Namespace + ".");
            text.Append(prefix).Append(TypeName(definition, qualified: false, withArity: false));
            var own = arguments[declaringArguments..];
            if (own.Length > 0)
            {
                text.Append('<')
                    .Append(string.Join(", ", own.Select((a, i) => TypeName(a, ElementInfo(info, declaringArguments + i)))))
                    .Append('>');
            }
        }
        else
        {
            text.Append(TypeName(type, qualified: true));
        }

        return text.Append(NullableMark(type, info)).ToString();
    }

    private static NullabilityInfo? ElementInfo(NullabilityInfo? info, int index) =>
        info is not null && index < info.GenericTypeArguments.Length ? info.GenericTypeArguments[index] : null;

    private static string NullableMark(Type type, NullabilityInfo? info) =>
        !type.IsValueType && info is not null && info.ReadState == NullabilityState.Nullable ? "?" : string.Empty;

    private static string Prefix(IList<CustomAttributeData> attributes, bool inline = false)
    {
        var text = new StringBuilder();
        foreach (var attribute in Attributes(attributes))
        {
            text.Append(attribute).Append(inline ? " " : "\n");
        }

        return text.ToString();
    }

    private static IEnumerable<string> Attributes(IList<CustomAttributeData> attributes) =>
        attributes
            .Where(a => !IgnoredAttributes.Contains(a.AttributeType.FullName ?? string.Empty) && IsVisible(a.AttributeType))
            .Select(Attribute)
            .Order(StringComparer.Ordinal);

    private static string Attribute(CustomAttributeData attribute)
    {
        var name = TypeName(attribute.AttributeType, qualified: true);
        if (name.EndsWith("Attribute", StringComparison.Ordinal))
        {
            name = name[..^"Attribute".Length];
        }

        var arguments = attribute.ConstructorArguments.Select(AttributeArgument)
            .Concat(attribute.NamedArguments.OrderBy(n => n.MemberName, StringComparer.Ordinal).Select(n => n.MemberName + " = " + AttributeArgument(n.TypedValue)))
            .ToList();
        return "[" + name + (arguments.Count > 0 ? "(" + string.Join(", ", arguments) + ")" : string.Empty) + "]";
    }

    private static string AttributeArgument(CustomAttributeTypedArgument argument)
    {
        if (argument.Value is IReadOnlyCollection<CustomAttributeTypedArgument> array)
        {
            return "new[] { " + string.Join(", ", array.Select(AttributeArgument)) + " }";
        }

        if (argument.Value is Type type)
        {
            return "typeof(" + TypeName(type, (NullabilityInfo?)null) + ")";
        }

        return Literal(argument.Value, argument.ArgumentType);
    }
}
