"""The English word lists the task classifier counts: data only, compiled by `task_word_matchers`.

Each entry is (group, weight, comma-separated phrases); the groups and their caps are in `task_groups`.
Phrases match whole words in the lower-cased text (a space matches any whitespace run, a trailing version
number is allowed: "python3"). At each position the longest phrase wins, which is how the shadowing phrases
below neutralise everyday senses ("zip code", "user story") of words that are otherwise strong evidence.
When a phrase is listed twice, the first listing counts, so order matters.
"""

from __future__ import annotations

from typing import Final

LEXICON: Final[tuple[tuple[str, float, str], ...]] = (
    # Unambiguous programming / infrastructure vocabulary.
    (
        "tech",
        1.5,
        "python, javascript, typescript, golang, c++, c#, f#, kotlin, scala, haskell, clojure, elixir, erlang, "
        "perl, php, lua, dart, flutter, fortran, cobol, matlab, vba, solidity, verilog, vhdl, ocaml, "
        "assembly language, sql, nosql, mysql, postgres, postgresql, sqlite, mongodb, dynamodb, cassandra, "
        "bigquery, snowflake, redshift, redis, memcached, kafka, rabbitmq, elasticsearch, pyspark, hadoop, airflow, "
        "dbt, numpy, scipy, matplotlib, seaborn, pytorch, tensorflow, keras, sklearn, scikit-learn, huggingface, "
        "cuda, jupyter, jupyter notebook, nextjs, nodejs, node.js, next.js, nuxt, deno, django, flask, fastapi, "
        "pydantic, sqlalchemy, prisma, dataclass, dataclasses, spring boot, laravel, ruby on rails, express.js, "
        "jquery, tailwind, bootstrap css, webpack, vite, babel, eslint, prettier, mypy, pylint, npm, yarn, pnpm, "
        "pip, conda, venv, virtualenv, poetry lock, homebrew, apt-get, docker, dockerfile, docker-compose, "
        "kubernetes, k8s, kubectl, kubelet, helm chart, istio, terraform, ansible, nginx, gunicorn, uvicorn, "
        "tomcat, prometheus, grafana, datadog, kibana, splunk, cloudwatch, linux, ubuntu, debian, centos, bash, "
        "zsh, powershell, shell script, bash script, git, github, gitlab, bitbucket, jenkins, ci/cd, "
        "github actions, ci pipeline, aws, gcp, ec2, s3 bucket, iam role, vpc, api, apis, rest api, restful, sdk, "
        "endpoint, endpoints, webhook, http, https, grpc, graphql, websocket, json, yaml, html, css, scss, flexbox, "
        "dom, ajax, axios, jwt, oauth, tcp, udp, dns, ipv4, ipv6, ip address, localhost, ssh, regex, regexp, "
        "regular expression, cron, cron job, cron expression, crontab, segfault, segmentation fault, traceback, "
        "stack trace, stacktrace, core dump, compiler, compile, compiling, compilation, runtime error, debug, "
        "debugging, debugger, breakpoint, refactor, refactoring, pytest, jest, junit, unittest, unit test, "
        "unit tests, integration test, mocking, algorithm, algorithms, recursion, recursive, memoization, "
        "dynamic programming, quicksort, mergesort, binary search, bfs, dfs, dijkstra, hashmap, hash map, "
        "hash table, hashtable, linked list, binary tree, data structure, data structures, big o, big-o, "
        "time complexity, space complexity, async, await, asyncio, coroutine, coroutines, multithreading, "
        "multi-threading, threading, thread pool, mutex, semaphore, deadlock, race condition, concurrency, "
        "goroutine, goroutines, microservice, microservices, backend, back-end, frontend, front-end, full stack, "
        "fullstack, database, databases, db, orm, jvm, bytecode, malloc, valgrind, gdb, stdout, stderr, stdin, "
        "null pointer, nullpointerexception, memory leak, stack overflow, out of memory, garbage collection, "
        "garbage collector, useeffect, usestate, jsx, tsx, localstorage, cors, csrf, xss, sql injection, dataframe, "
        "dataframes, etl, cli, command line, command-line, environment variable, environment variables, env var, "
        "pull request, merge conflict, code review, rate limiter, rate limiting, load balancer, reverse proxy, "
        "system design, design pattern, design patterns, source code, codebase, programming, programmer, "
        "programmers, coding, code, bug, bugs, buggy, syntax error, function, functions, variable, variables, "
        "array, arrays, pointer, pointers, integer, integers, boolean, undefined, nullptr, struct, enum, lambda, "
        "repo, repository, rebase, typeerror, valueerror, crashloopbackoff, spark, react, react native, vue, "
        "angular, svelte, pandas, java, rust, helm, utf-8, utf8, ascii, bitwise, closure, closures, callback, "
        "callbacks, promise chain, iterator, iterators, generics, polymorphism, encapsulation, oop, "
        "object-oriented, inheritance in, abstract class, const, var, hoisting, vlookup, xlookup, pivot table, "
        "excel formula, macro, macros, spreadsheet formula, latex, vscode, vs code, intellij, pycharm, xcode, "
        "android studio, vim, emacs, ide, sudo, chmod, systemd, systemctl, daemon, kernel, firmware, bios, "
        "virtual machine, vm, vms, hypervisor, vmware, subnet, cidr, firewall rule, vpn tunnel, tls certificate, "
        "ssl certificate, encryption, encrypt, decrypt, hashing, authentication, oauth2, sso, ldap, cve, exploit, "
        "vulnerability, p50, p90, p95, p99, qps, rps, gc, gc pauses, latency spikes, throughput, scalability, "
        "sharding, replication lag, idempotent, message queue, pub/sub, serverless, devops, sre, ci, cd pipeline, "
        "staging, deploy, deployed, deploying, deployment, wordpress, plugin, scraper, scraping, web scraping, "
        "crawler, chatbot, bot, api key, secrets manager, url shortener, short url, webapp, web app, devtools, "
        "console.log, button, navbar, dropdown, checkbox, css grid, media query, responsive design, page load, "
        "load faster, npm install, pip install, install error, dependency, dependencies, package manager, "
        "version conflict, machine learning, deep learning, neural network, neural networks, fine-tune, "
        "fine-tuning, hyperparameter, hyperparameters, overfitting, gradient descent, backpropagation, "
        "loss function, embedding, embeddings, llm, transformer model, cnn, rnn, lstm, bert, tokenizer, "
        "list of numbers, sorted array, in place, in-place, edge case, edge cases, null, nan, hexadecimal, "
        "binary number, decimal to binary, floating point, floating-point, parse, parser, parsing, serialize, "
        "deserialize, json schema, xml, csv file, parquet, schema migration, primary key, foreign key, sql query, "
        "stored procedure, transaction isolation, index scan, operating system, macos, ios app, android app, apk, "
        "app crash, crashes on startup, app crashes, disk space, filesystem, file system, symlink, "
        "permission denied, cpu, gpu, memory usage, high cpu, cache miss, cdn, dns record, tcp/ip, socket, sockets, "
        "port forwarding, status code, 404 error, 500 error, error code, timeout error, request timeout, exception, "
        "exceptions, error handling, try/catch, try-catch, queue data structure, linked lists, trees and graphs, "
        "graph algorithm, sorting algorithm, search algorithm, scripting, to decimal, to binary, to hex, in binary, "
        "in hex, to hexadecimal, directed graph, undirected graph, cycle detection, detect a cycle, dag, "
        "topological sort, shortest path, spanning tree, adjacency list, adjacency matrix, arduino, raspberry pi, "
        "esp32, microcontroller, gpio, analog pin, digital pin, i2c, uart, pwm, breadboard, embedded, bulk rename, "
        "batch rename, rename files, task scheduler, power of two, power of 2, bit manipulation, config file, "
        "configuration file, boot loop, bootloader, blue screen, bsod, registry, batch file, .bat, cmd, "
        "powershell script, bash alias, ssh key, ssh keys, dual boot, partition, device driver, in c, c language, "
        "c programming, in c++, strlen, printf, bootable, bootable device, windows update, scrape, scrapes, "
        "static site, static website, github pages, netlify, vercel, heroku, web hosting, self-host, self-hosted, "
        "md5, sha256, sha-1, bcrypt, argon2, salted, password hash, unity, unreal engine, godot, rigidbody, "
        "collider, game engine, shader, shaders, sprite, sprites, game dev, gamedev, coin flips, heads in a row, "
        "expected number, task manager, disk usage, 100% disk, blue screen of death, driver update, safe mode, "
        "discord bot, telegram bot, slack bot, bot token, list comprehension, mentions a keyword, one-liner, "
        "oneliner, snippet, snippets, makefile, database tables, database table, table design, schema design, "
        "data model, data modeling, er diagram",
    ),
    # Technical, but also heard outside computing; a few are needed to outweigh the general prior.
    (
        "tech",
        0.75,
        "server, servers, schema, cache, caching, latency, div, terminal, bits, byte, bytes, encoding, unicode, "
        "csv, config, configuration, configure, test case, test cases, model training, partitions, loop, loops, "
        "dict, tuple, tuples, joins, lru, o(1), o(n), o(log n), o(n^2), o(n log n), ssl, tls, proxy, upstream, "
        "timeout, error, errors, monorepo, azure, apache, lambda function, install, installed, installing, "
        "uninstall, module not found, deploy to, logging, log file, metrics, monitoring, outage, payload, header, "
        "headers, login page, password reset flow, username, column, columns, file, files, folder, directory, "
        "directories, path, command, commands, flag, flags, argument, arguments, parameter, parameters, "
        "return value, fastest way, benchmark, speed up, refresh, reload, render, rendering, duplicate, duplicates, "
        "remove duplicates, sort, sorting, sorted, matrix multiplication, graph, graphs, node, nodes, automate, "
        "automation, router, credentials, password hashing, login, auth, user input, form validation, validation, "
        "google sheets, spreadsheet, regex pattern, pattern matching, syntax, null value, compute, computing, "
        "computer science, implementation, implement, stateful, stateless, concurrent, distributed, replica, "
        "replicas, backup script, refactored, legacy code, tech stack, programming language, programming languages, "
        "rename, folders, sensor, sensors, boot, won't boot, reboot, windows 11, windows 10, mac terminal, "
        "automator, shortcut, shortcuts, filename, filenames, file name, photos app, hosting, host a, domain name, "
        "passwords, keyword, wifi, wi-fi, bluetooth, windows, linux laptop, reinstall, format the drive, ssd, "
        "hard drive, usb, dual monitor, printer driver, decorator, decorators, landing page",
    ),
    # Everyday words with a common technical sense ("class", "process", "branch").
    (
        "tech",
        0.5,
        "class, classes, method, methods, library, libraries, framework, frameworks, pipeline, pipelines, module, "
        "modules, interface, component, components, hooks, props, commit, commits, merge, branch, branches, port, "
        "ports, pod, pods, cluster, clusters, container, containers, service, services, query, queries, "
        "certificate, gateway, crash, crashes, crashing, workflow, bandwidth, formula, formulas, excel, element, "
        "elements, efficient, efficiently, program, programs, script, scripts, website, websites, webpage, "
        "web page, browser, hex, float, stack, heap, os, ram, mock, inference, app, apps, software, architecture, "
        "process, processes, thread, threads, string, strings, index, indexes, optimize, optimise, optimization, "
        "performance, binary, data, dataset, datasets, logs, token, tokens, expression",
    ),
    # Shadowing phrases: everyday senses of words listed elsewhere. The longest match wins, so these
    # swallow the phrase ("zip code", "user story") and add only a token weight to general.
    (
        "topic",
        0.3,
        "zip code, dress code, promo code, discount code, coupon code, area code, postal code, stomach bug, "
        "bed bug, bed bugs, belly button, tv program, loyalty program, training program, exchange program, "
        "master's program, degree program, mock interview, mock exam, customer service, in the loop, a bit, "
        "airport terminal, terminal illness, yoga class, cooking class, performance review, hero section, "
        "hero image, setup wizard, epics, map legend, chart legend, for instance, user story, user stories, "
        "story points, special character, special characters, character limit, character encoding, novel approach, "
        "novel coronavirus, closure on, need closure, class action, in class, my class, the class, class schedule, "
        "after class, business process, process of, the process, application form, job application, "
        "college application, visa application, loan application, the table, a table, reserve a table, table for, "
        "at the table, tree house, family tree, christmas tree",
    ),
    (
        "math",
        1.0,
        "math, maths, mathematics, arithmetic, equation, equations, solve for, derivative, derivatives, integral, "
        "integrals, integrate, differentiate, eigenvalue, eigenvalues, eigenvector, eigenvectors, matrix, matrices, "
        "determinant, polynomial, quadratic, theorem, lemma, prove, prove that, logarithm, logarithms, calculus, "
        "algebra, linear algebra, probability, probabilities, modulo, factorial, fibonacci, prime number, "
        "prime numbers, primes, sqrt, square root, vector, vectors, combinatorics, permutation, permutations, "
        "combinations, inequality, geometry, trigonometry, sine, cosine, differential, limit of, converge, "
        "converges, expected value, variance, standard deviation, dice, die roll, fair die, coin flip, coin toss, "
        "mph, km/h, percent of, compound interest, show the steps, show your work, explain your reasoning, "
        "calculate, solve, how many ways, area of, volume of, perimeter, circumference, hypotenuse, triangle, "
        "radius, exponent, exponential, statistics, regression, distribution, bayes, conditional probability, "
        "how many different, how many possible, repeated digits, digits, combinatorial",
    ),
    (
        "form",
        1.5,
        "movie script, film script, video script, youtube script, podcast script, script for a video, "
        "script for my video, script for a play, poem, poems, poetry, haiku, haikus, limerick, limericks, sonnet, "
        "sonnets, lyrics, riddle, riddles, slogan, slogans, tagline, taglines, fairy tale, fairytale, fable, "
        "fables, fiction, screenplay, monologue, bedtime story, bedtime tale, short story, love letter, fanfic, "
        "fanfiction, ballad, ode, acrostic, villanelle, joke, jokes, pun, puns, rhyme, rhymes, rhyming, rap, "
        "rap verse, verse, stanza, story, stories, tale, tales, storyline, plot twist, backstory, worldbuilding, "
        "world-building, dungeon master, dungeons and dragons, d&d, dnd, rpg, tabletop, campaign setting, npc, "
        "quest, villain, hero, heroine, protagonist, antagonist, dragon, dragons, wizard, knight, pirate, mermaid, "
        "unicorn, fairy, elf, ghost story, horror story, mystery novel, sci-fi, science fiction, fantasy novel, "
        "toast for, wedding toast, birthday card, greeting card, eulogy, vows, wedding vows, limerick about, "
        "lullaby, lullabies, nursery rhyme, knock-knock joke, knock knock joke, legend explaining, myth explaining, "
        "origin myth, superhero, supervillain, noir, detective novel, opening paragraph, opening line, "
        "opening lines, short film, film idea, movie idea, screenplay idea, motivational speech, pep talk, "
        "halftime speech, best man speech, maid of honor speech, rhyming couplet, couplet, roast me, second person, "
        "first person, third person, write me something, something sad, something funny, something romantic, "
        "write together, story together, break-up letter, breakup letter, letter from a cat, letter from my cat, "
        "letter from a dog",
    ),
    (
        "form",
        1.0,
        "song, songs, novel, novels, dialogue, dialog, toast, scene, chapter, characters, character, narrative, "
        "narrator, epic, fantasy, magical, myth, legend, once upon, stanzas, chorus, caption, captions, tweet, "
        "creature, monster, alien, kingdom, empire, realm, documentary narrator, speech, the ending, "
        "ending happier, happier ending, plot, letter from a, letter from my",
    ),
    (
        "roleplay",
        3.0,
        "pretend, pretending, roleplay, role-play, role play, in character, let's pretend, make-believe, be my, "
        "you are now, from now on you are, stay in character",
    ),
    (
        "roleplay",
        2.0,
        "imagine, imagining, in the style of, in the voice of, as if you were, as though you were, as if it were, "
        "as if written by, written by a, from the perspective of, from the point of view of, through the eyes of, "
        "what would happen if, what if, might think, would think, would feel, might feel, would say, continue this, "
        "continue the story, keep going with the story, narrate, narrate my, like a nature documentary, "
        "as a pirate, as shakespeare, in shakespearean, what would a, what would the, sound like, look like if, "
        "if animals, if the sun",
    ),
    (
        "brainstorm",
        2.0,
        "brainstorm, brainstorming, name ideas, names for, name for, fun names, come up with, invent, "
        "creative writing, creative, ideas for a, catchy, mythical, fictional, made-up, idea for a, an idea for, "
        "idea for my",
    ),
    (
        "chat",
        1.5,
        "how are you, how's your day, how is your day, how was your day, how have you been, what's up, let's chat, "
        "let's talk, just chat, talk with me, talk to me, chat with me, keep me company, entertain me, cheer me up, "
        "make me laugh, your favorite, your favourite, what do you think, do you like, do you ever, "
        "do you have feelings, are you real, are you alive, tell me about yourself, good morning, good night, "
        "great day, bad day, rough day, long day, thank you so much, haha, lol, lmao, you're the best, "
        "you are the best, you're amazing, you're awesome, love you, tell me another, another one, "
        "that's hilarious, so funny, i'm bored, bored out of my mind, tell me something, made you laugh, "
        "would you go, would you do, if you could, are you up to, what are you doing, do you dream, do you feel, "
        "how do you feel, are you happy, about yourself, wyd, hiii, heyy, heyyy, sup, would you name, "
        "would you call, good news",
    ),
    (
        "chat",
        1.0,
        "thanks, thank you, hello, hi there, hey there, are you, do you, have you ever, who are you, i just, "
        "guess what",
    ),
    (
        "feelings",
        1.5,
        "i feel, i'm feeling, i am feeling, feeling down, feeling low, lonely, loneliness, sad, sadness, depressed, "
        "heartbroken, heartbreak, dumped, broke up, breakup, crying, cry, anxious, nervous, stressed, upset, bored, "
        "miserable, grieving, grief, scared, excited, so happy, in knots, can't sleep, exhausted, overwhelmed, "
        "i miss, miss my, miss her, miss him, passed away, passed last, died last, funeral, my dream, dream school, "
        "i got into, i got the job, so proud, afraid, frustrated, hopeless, hurt, tired of everything, "
        "can't stop thinking, my ex, still hurt, it hurts, so tired, burned out, burnt out, sweet, adopted, "
        "hard week, hard time, rough week, tough week, need someone, someone to listen, just need to vent, vent, "
        "got engaged, engaged, pregnant, got married, promoted, i'm having",
    ),
    # Technical reasoning asked in words, without code: mail and network set-up, statistics, proofs, data modelling.
    (
        "tech",
        1.5,
        "spf, dkim, dmarc, mx record, mx records, consensus, leader election, raft, "
        "paxos, eventual consistency, idempotency, isolation level, write skew, lock contention, "
        "starvation, priority inversion, thundering herd, backpressure, cache invalidation, partitioning, "
        "slowly changing dimension, star schema, normalize the, normalise the, repeatable read, serializable, "
        "read committed, wireguard, cgnat, vps, nat traversal, how would you design, at scale, "
        "requests per second, writes per second",
    ),
    (
        "math",
        1.5,
        "statistically significant, significance level, significant at, p-value, p value, chi-square, chi-squared, "
        "t-test, hypothesis test, null hypothesis, confidence interval, expected payout, proof by induction, "
        "by induction, induction step, inductive step, vertex, vertices, eulerian, hamiltonian, graph theory, "
        "maximize the volume, minimise the, minimize the, optimal size, pigeonhole, sensitivity, "
        "specificity, % sensitive, % specific, false positive rate, bayes' theorem, what size should",
    ),
    ("feelings", 1.5, "the worst part, didn't even apologize, being dramatic, so annoyed, so upset, pissed off"),
    ("feelings", 1.5, "not cut out for, imposter syndrome, impostor syndrome, i panic, still panic, feel stupid"),
    ("brainstorm", 2.0, "punny, channel name, team name"),
    ("lay", 1.5, "i'm not technical, not a developer, not an engineer, explain like i'm, non-techie"),
    (
        "info",
        1.0,
        "in excel, in google sheets, in chrome, in word, in outlook, in gmail, on a mac, to a kid, to my kid, "
        "to our board, board of trustees, to my parents, to my grandma",
    ),
    (
        "math",
        1.5,
        "downstream, speed of the boat, speed of the current, each corner, fold up the sides, "
        "expected winnings, on average per game, how much should you expect, rate of work, working together",
    ),
    ("info", 1.5, "how do i turn on, how do i turn off, how to turn on, how to turn off, on my iphone, on my android"),
    ("feelings", 0.75, "i'm so, i am so, i'm really, i'm kind of, i'm a bit"),
    (
        "tone",
        1.0,
        "funny, playful, humorous, witty, whimsical, cute, silly, hilarious, cheesy, quirky, spooky, romantic, "
        "heartfelt, poetic, mournful, tense, dramatic, make it funny, make it fun, vivid, cozy, lighthearted, "
        "sarcastic, dark humor, emotional, poetically, lyrical, lyrically, melancholy, bittersweet, motivational, "
        "inspiring, uplifting",
    ),
    (
        "task",
        2.0,
        "summarize, summarise, summarized, summary, summarization, tldr, tl;dr, translate, translated, translation, "
        "translating, into english, into french, into spanish, into german, into japanese, into chinese, proofread, "
        "paraphrase, rephrase, extract, classify, categorize, categorise, sentiment, itinerary, recipe, "
        "action items, key points, main points, bullet points, cover letter, resume, cv, meeting notes, grammar, "
        "fix the grammar, spelling, more formal, more polite, more professional, packing list, job description, "
        "job posting, turn this into a table, into a table, workout plan, meal plan, study plan, lesson plan, "
        "to-do list, checklist, agenda, polite message, turn this into, out-of-office, out of office, complaint, "
        "bio for, short bio, thank you note, thank you letter, thank you email, thank-you letter, "
        "product description, blog post, article about, newsletter, proposal, business plan, marketing plan, "
        "press release",
    ),
    (
        "task",
        1.0,
        "email, e-mail, letter, memo, rewrite, proofreading, reply to, draft a reply, respond to, thank-you note, "
        "reference letter, announcement, report, essay, outline, pros and cons, compare, comparison, recommend, "
        "recommendations, message to, polite, linkedin, profile",
    ),
    ("info", 2.0, "history of, who invented, who created, origin of, origins of"),
    # Facts and advice.
    (
        "info",
        1.0,
        "who won, who wrote, who discovered, meaning of, benefits of, health benefits, symptoms, tips, advice, "
        "should i, is it better, what should i, how long does, how long do, how long to, what happened, when did, "
        "when was, where is, capital of, population of, for and against, arguments for, in simple terms",
    ),
    (
        "info",
        0.75,
        "meter, rhyme scheme, literary device, literary devices, metaphor, symbolism, theme of, themes of, analyze, "
        "analyse, analysis, interpret, critique, iambic pentameter, the author, the novel",
    ),
    ("info", 0.5, "explain how, explain why, explain the, explain what, how does"),
    # Question openers are asked of every kind of task, so they only nudge.
    (
        "question",
        0.25,
        "what is, what's, what are, what does, how do i, how can i, explain, why do, why does, difference between, "
        "the difference",
    ),
    (
        "lay",
        1.5,
        "layman, laymen, eli5, non-technical, non technical, simple terms, to a child, for kids, grandma, "
        "grandmother, grandpa, grandparents, a five year old, a 5 year old",
    ),
    (
        "topic",
        0.4,
        "health, healthy, diet, travel, vacation, trip, visa, flight, hotel, salary, tax, taxes, invest, investing, "
        "investment, stock market, stocks, insurance, mortgage, rent, landlord, doctor, medicine, exercise, "
        "workout, sleep, weather, history, war, battle of, president, country, countries, book, books, restaurant, "
        "cooking, cook, boil, bake, baking, interview, boss, manager, meeting, customer, refund, vitamin, "
        "pregnancy, kids, children, toddler, parents, wedding planning, marketing, sales, budget, contract, ira, "
        "gdp, economy, inflation, climate, vaccine, vaccines, planets, planet, religion, philosophy, law, legal, "
        "lawyer, used car, coffee, tea, vegetables, fruit, recipe for, language learning, learn spanish, "
        "learn french, spanish, french, german, japanese, english, receptionist, employee, employees, job, career, "
        "university, college, school, homework, garden, plants, pets, dog food, cat food, nutrition, calories, "
        "protein",
    ),
)
