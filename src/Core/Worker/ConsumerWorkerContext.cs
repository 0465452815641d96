using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Messaging;

/// <summary>
/// What a consumer worker is built with: its name, its validated options, the application's propagation engine and
/// services. The registration (a transport's <c>Add…ConsumerWorker</c>) creates one per worker and passes it to the
/// worker's constructor; a worker passes it on to its base class. Each transport has its own derived type.
/// </summary>
public abstract class ConsumerWorkerContext
{
    private protected ConsumerWorkerContext(string name, ConsumerWorkerOptions options, IServiceProvider services)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        Name = name;
        Options = options;
        Services = services;
        Instrumentation = services.GetService<MessagingInstrumentation>() ?? MessagingInstrumentation.Default;
        LoggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
    }

    /// <summary>Gets the worker's name: the name it was registered with (its options name and health check name).</summary>
    public string Name { get; }

    /// <summary>Gets the worker's validated options.</summary>
    public ConsumerWorkerOptions Options { get; }

    /// <summary>Gets the application's propagation engine, shared by every worker and publisher.</summary>
    public MessagingInstrumentation Instrumentation { get; }

    /// <summary>Gets the application's services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Gets the clock (the registered <see cref="System.TimeProvider"/>, or the system clock).</summary>
    public TimeProvider TimeProvider { get; }

    internal ILoggerFactory LoggerFactory { get; }
}
