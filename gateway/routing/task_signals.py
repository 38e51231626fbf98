"""The evidence the task classifier weighs: word lists and text patterns, all built once at import.

Every cue belongs to a *group*; a group counts toward one task class and has a cap, so that piling up many
weak cues of one kind (ten programming words in a long paste) cannot outvote a different, decisive kind of
evidence (an explicit "write a poem"). Weights are hand-set in halves and quarters so a reason can be read
back from them.

Performance note: Python's `re` costs roughly 15-50 ns per character per pattern unless the pattern starts
with a literal or a character class (then the engine skips ahead in C), while `in` / `str.count` are ~50x
cheaper still. So there is one pass for the word lists, the structural patterns start with literals and are
gated on substrings they need, and the request patterns only read the start and end of the text, lower-cased
(case-insensitive matching is slow too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

TaskClass = Literal["code", "creative", "general"]


class Group(NamedTuple):
    task: TaskClass
    cap: float
    label: str


GROUPS: Final[Mapping[str, Group]] = MappingProxyType(
    {
        # code
        "code_block": Group("code", 4.0, "code block"),
        "stack_trace": Group("code", 4.0, "stack trace"),
        "code_lines": Group("code", 4.0, "code lines"),
        "symbols": Group("code", 1.5, "symbol-dense text"),
        "error": Group("code", 3.0, "error message"),
        "logs": Group("code", 2.5, "log lines"),
        "path": Group("code", 1.5, "file path"),
        "inline_code": Group("code", 1.5, "inline code"),
        "identifier": Group("code", 1.5, "code identifiers"),
        "shell": Group("code", 2.0, "shell command"),
        "sql": Group("code", 3.0, "SQL"),
        "equation": Group("code", 2.0, "equation"),
        "word_problem": Group("code", 1.5, "word problem"),
        "code_request": Group("code", 3.5, "asks for code"),
        "tech": Group("code", 5.0, "programming terms"),
        "math": Group("code", 3.0, "math terms"),
        "tools": Group("code", 0.75, "tools offered"),
        "structured": Group("code", 0.75, "structured output"),
        "system_code": Group("code", 1.5, "technical system prompt"),
        # creative
        "creative_request": Group("creative", 4.0, "asks for creative writing"),
        "write": Group("creative", 1.25, "asks for writing"),
        "form": Group("creative", 2.5, "creative forms"),
        "roleplay": Group("creative", 3.5, "role-play"),
        "brainstorm": Group("creative", 3.0, "brainstorming"),
        "chat": Group("creative", 3.0, "chit-chat"),
        "expressive": Group("creative", 1.5, "expressive punctuation"),
        "feelings": Group("creative", 3.0, "feelings"),
        "tone": Group("creative", 1.5, "playful tone"),
        "system_creative": Group("creative", 1.5, "persona system prompt"),
        # general
        "task": Group("general", 3.0, "general task"),
        "info": Group("general", 2.0, "factual/advice question"),
        "question": Group("general", 0.5, "question"),
        "lay": Group("general", 1.5, "lay audience"),
        "topic": Group("general", 1.5, "everyday topic"),
        "system_general": Group("general", 1.5, "general system prompt"),
    }
)

# The prior for "general": with no evidence at all, general wins, and one weak cue for another class (a
# single ambiguous word) is not enough to move a request away from it.
GENERAL_PRIOR: Final = 0.8

# ---------------------------------------------------------------------------------------------------------
# Word lists: (group, weight, comma-separated phrases). ASCII phrases match whole words in the lower-cased
# text (a space matches any whitespace run); CJK phrases match as substrings, since Chinese has no spaces.
# At each position the longest phrase wins, which is how the shadowing phrases below neutralise
# everyday senses ("zip code", "user story") of words that are otherwise strong evidence.
# ---------------------------------------------------------------------------------------------------------
_ASCII_LEXICON: Final = (
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

_CJK_LEXICON: Final = (
    (
        "tech",
        1.5,
        "代码, 代碼, 编程, 編程, 程序员, 程式, 码农, 報錯, 报错, 函数, 函數, 脚本, 腳本, 正则, 正則, 数据库, "
        "資料庫, 數據庫, 算法, 演算法, 复杂度, 複雜度, 线程, 執行緒, 線程, 进程, 進程, 并发, 並發, 高并发, 编译, "
        "編譯, 调试, 調試, 除错, 除錯, 变量, 變數, 變量, 数组, 陣列, 數組, 字符串, 字串, 指针, 指標, 指針, 递归, "
        "遞迴, 遞歸, 前端, 后端, 後端, 前后端, 全栈, 服务器, 伺服器, 云服务器, 端口, 内存, 記憶體, 乱码, 亂碼, "
        "动态规划, 動態規劃, 贪心算法, 回溯, 二叉树, 二元樹, 链表, 鏈表, 哈希, 雜湊, 线程安全, 单元测试, 單元測試, "
        "微服务, 微服務, 负载均衡, 死锁, 爬虫, 爬蟲, 源码, 源碼, 返回值, 环境变量, 虛擬環境, 虚拟环境, 命令行, "
        "防抖, 节流, 回调, 异步, 非同步, 协程, 數據結構, 数据结构, 資料結構, 设计模式, 設計模式, 系统设计, "
        "面向对象, 物件導向, 堆栈, 时间复杂度, 空间复杂度, 运维, 集群, 容器化, 闭包, 閉包, 闪退, 閃退, 网页, 網頁, "
        "按钮, 按鈕, 居中, 浏览器, 瀏覽器, 响应式, 小程序, 去重, 遍历, 遍歷, 短网址, 短網址, 短链接, 分布式, 架构, "
        "架構, 断点, 事务, 主键, 外键, 慢查询, 字段, 表结构, 机器学习, 機器學習, 深度学习, 深度學習, 神经网络, "
        "神經網路, 损失函数, 过拟合, 梯度下降, 训练模型, 模型训练, 报错信息, 错误码, 堆疊, 套件, 依賴, 版本冲突, "
        "编码问题, 正则表达式, 数据结构与算法, 透视表, 樞紐分析, 公式报错, 宏命令, 内存泄漏, 記憶體洩漏, 栈溢出, "
        "空指针, 編碼, 网关, 域名, 接口文档, 上线, 部署到, 镜像源, 换源, 依赖包, 安装包, 虚拟机, 有向图, 無向圖, "
        "有向圖, 无向图, 有没有环, 拓扑排序, 最短路径, 生成树, 邻接表, 树莓派, 樹莓派, 单片机, 嵌入式, 串口, 引脚, "
        "配置文件, 設定檔, 开不了机, 開不了機, 蓝屏, 藍屏, 重命名, 批量重命名, 2 的幂, 2的幂, 二的幂, 位运算, 整数, "
        "整數, 注册表, 驱动程序, 双系统, 分区, 开机显示, 任务管理器, 磁盘占用, 静态网站, 靜態網站, 托管, 刚体, "
        "剛體, 碰撞体, 碰撞體, 穿墙, 穿牆, 游戏引擎, 油猴, 篡改猴, 浏览器插件, 浏览器扩展, 工作表, 獲取用戶, "
        "获取用户, 抓取, 自动抓取, 解析, 行列式, 数学归纳法, 數學歸納法, 正整数, 抛硬币, 擲硬幣, 二叉搜索树, "
        "平衡树, 时区转换",
    ),
    (
        "tech",
        0.75,
        "接口, 部署, 容器, 缓存, 快取, 日志, 日誌, 编码, 依赖, 框架, 索引, 查询, 查詢, 排序, 排查, 异常, 開發, "
        "开发, 程序, 软件, 軟體, 調用, 调用, 参数, 參數, 配置, 终端, 镜像, 线上, 语法, 溢出, 证书, 网站, 網站, "
        "页面, 頁面, 首页, 加载, 載入, 加載, 样式, 樣式, 布局, 插件, 外掛, 安装, 安裝, 卸载, 兼容, 列表, 迭代, "
        "实例, 继承, 多态, 封装, 队列, 佇列, 技术, 技術, 自动化, 自動化, 磁盘, 硬盘, 公式, 表格公式, 单元格, 带宽, "
        "模块, 組件, 组件, 节点, 加密, 解密, 验证码, 性能, 效能, 内核, 驱动, 显卡, 卡住, 速度慢, 崩了, 挂了, 宕机, "
        "数据量, 百万级, 两列, 多列, 批量, 文件名, 开机, 開機, 文件夹, 资料夹, 错误代码, 錯誤代碼, 小工具, "
        "自动回复, 自動回覆, 密码, 密碼, 網址, 网址, 回车, 电脑很卡, 电脑卡, 卡死, 重装系统, 固态硬盘, 蓝牙, 藍牙, "
        "wifi, 网速",
    ),
    (
        "tech",
        0.5,
        "表格, 服务, 服務, 系统, 系統, 优化, 優化, 版本, 升级, 运行, 執行, 执行, 数据, 資料, 设计一个, 設計一個, "
        "机器人, 元素, 循环, 循環, 命令, 目录, 路径, 权限, 登录, 登入, 卡顿",
    ),
    (
        "math",
        1.0,
        "数学, 數學, 方程, 求解, 证明, 證明, 根号, 根號, 无理数, 無理數, 质数, 質數, 素数, 导数, 導數, 微分, 积分, "
        "積分, 矩阵, 矩陣, 概率, 机率, 機率, 几何, 幾何, 不等式, 数列, 數列, 极限, 極限, 向量, 求和, 计算, 計算, "
        "特征值, 极值, 極值, 最大值, 最小值, 面积, 面積, 体积, 體積, 周长, 三角形, 函数图像, 应用题, 應用題, "
        "鸡兔同笼, 骰子, 硬币, 期望, 方差, 标准差, 排列组合, 排列, 组合数, 对数, 指数, 平方, 立方, 公里每小时, "
        "速度是, 追上, 相遇",
    ),
    ("math", 1.5, "多少种, 多少種, 几种, 幾種, 有多少种"),
    ("math", 0.5, "数字, 數字, 四位数, 三位数"),
    (
        "form",
        1.5,
        "诗, 詩, 诗歌, 故事, 小说, 小說, 歌词, 歌詞, 笑话, 笑話, 段子, 广告语, 廣告語, 口号, 口號, 标语, 標語, "
        "绝句, 絕句, 律诗, 对联, 對聯, 情话, 情話, 开场白, 開場白, 剧本, 劇本, 童话, 童話, 散文, 台词, 臺詞, 文案, "
        "祝福语, 祝福語, 藏头诗, 打油诗, 顺口溜, 绕口令, 谜语, 謎語, 寓言, 神话, 科幻, 武侠, 武俠, 玄幻, 作文, "
        "描写, 描寫, 短句, 金句, 续写, 續寫, 场面, 場面, 告白, 表白, 情书, 情書, 祝福, 贺词, 賀詞, 致辞, 小故事, "
        "童謠, 童谣, 悬疑, 懸疑, 恐怖故事, 鬼故事, 仙侠, 穿越, 视频的开头, 传说, 傳說, 儿歌, 兒歌, 摇篮曲, 搖籃曲, "
        "誓词, 誓詞, 场景, 場景, 超级英雄, 超級英雄, 超能力, 冷笑话, 冷笑話, 侦探小说, 偵探小說, 谜题故事, 送别, "
        "送別, 讲话稿, 演讲稿, 鼓舞士气, 伤感, 傷感, 接龙, 接龍, 短片, 电影点子, 電影點子, 结局改, 結局改, 对话会, "
        "會聊些什麼, 会聊些什么, 第二人称, 第二人稱, 第三人称",
    ),
    (
        "form",
        1.0,
        "龙, 龍, 公主, 王子, 巫师, 魔法, 主角, 反派, 朋友圈, 开头, 開頭, 结尾, 结局, 結局, 讲话, 講話, 的话, 對話, "
        "对话",
    ),
    ("form", 0.5, "歌"),
    (
        "roleplay",
        3.0,
        "假装, 假裝, 扮演, 角色扮演, 你现在是, 你現在是, 口吻, 假如你是, 如果你是, 模仿, 想象, 想像, 视角, 視角, "
        "第一人称, 第一人稱, 开始对话, 開始對話, 你来当, 你來當",
    ),
    ("roleplay", 1.5, "你是一只, 你是一隻, 你是一个, 你是一個, 风格, 風格, 的语气, 的語氣, 解说, 解說"),
    ("roleplay", 1.0, "要是, 假如, 会怎么样, 會怎麼樣, 如果能, 会怎样, 會怎樣"),
    ("brainstorm", 2.0, "起名, 取名, 起个名, 起個名, 名字, 点子, 點子, 创意, 創意, 脑洞, 腦洞, 发明, 發明"),
    (
        "chat",
        1.5,
        "你好呀, 你好啊, 嗨, 哈喽, 哈囉, 在吗, 在嗎, 聊聊, 聊天, 聊一会, 聊一會, 聊點, 聊点, 陪我, 说说话, 說說話, "
        "过得怎么样, 過得怎麼樣, 今天过得, 最近怎么样, 无聊, 無聊, 哈哈, 你觉得, 你覺得, 你喜欢, 你喜歡, 晚安, "
        "早安, 早上好, 你真好, 你真棒, 爱你, 愛你, 再来一个, 再來一個, 太好笑, 你会不会, 你會不會, 你是谁, 你是誰, "
        "你有没有, 你有沒有, 好笑, 你在干嘛, 你在幹嘛, 在干嘛, 你在做什么, 你在干什么, 你想去哪, 如果你可以, "
        "你平时, 你今天, 你开心吗, 你会做梦, 来玩, 來玩, 玩个游戏, 玩個遊戲, 玩游戏, 猜谜, 吐槽, 找个人, 找個人, "
        "好消息, 告诉你个, 告訴你個",
    ),
    ("chat", 1.0, "谢谢, 謝謝, 多谢, 感谢你, 我刚, 我剛, 我今天"),
    ("chat", 0.5, "你好"),
    (
        "feelings",
        1.5,
        "心情, 难过, 難過, 伤心, 傷心, 失恋, 失戀, 分手, 孤独, 孤獨, 寂寞, 压力好大, 压力很大, 壓力好大, 壓力很大, "
        "好累, 好烦, 好煩, 烦死, 哭, 焦虑, 焦慮, 紧张, 緊張, 开心, 開心, 难受, 難受, 睡不着, 睡不著, 好没用, "
        "真没用, 自己没用, 沒用了, 抑郁, 憂鬱, 委屈, 感觉自己, 覺得自己, 觉得自己, 想她, 想他, 想你, 去世, 過世, "
        "过世, 考砸, 想哭, 高兴, 高興, 激动, 激動, 害怕, 終於, 终于拿到, 拿到offer, 拿到 offer, 暗恋, 暗戀, "
        "提不起劲, 提不起勁, 也烦, 很烦, 烦躁, 郁闷, 鬱悶, 不开心, 心累, 累了, 心情差, 超级差, 忘不了, 前任, 领养, "
        "好乖, 好可爱, 难熬, 難熬, 有人听, 有人聽, 听我说, 聽我說, 订婚, 訂婚, 结婚啦, 怀孕, 升职啦, 倾诉, 傾訴",
    ),
    ("feelings", 1.0, "mood"),
    (
        "tone",
        1.0,
        "幽默, 搞笑, 可爱, 可愛, 有趣, 浪漫, 肉麻, 俏皮, 温馨, 溫馨, 感人, 押韵, 押韻, 文艺, 文藝, 轻松, 輕鬆, "
        "出人意料, 煽情, 唯美, 走心, 诗意, 詩意, 悲伤, 感性",
    ),
    (
        "task",
        2.0,
        "总结, 總結, 概括, 摘要, 翻译, 翻譯, 译成, 譯成, 翻成, 提取, 抽取, 归类, 歸類, 分类, 分類, 积极还是消极, "
        "润色, 潤色, 改写, 改寫, 校对, 校對, 邮件, 郵件, 请假, 請假, 周报, 週報, 简历, 簡歷, 履歷, 会议纪要, "
        "申请书, 求职信, 推荐信, 感谢信, 感謝信, 行程, 攻略, 菜谱, 食谱, 情感, 招聘启事, 招聘, 整理成表格, "
        "健身计划, 计划表, 清单, 清單, 通知, 公告, 报告, 報告, 论文, 論文, 改成, 自我介绍, 自我介紹, 投诉信, "
        "投訴信, 邮件自动回复, 休假, 商品描述, 产品描述, 房源介绍, 房源介紹, 需求文档, 演讲稿提纲, 会议议程, 议程, "
        "議程, 错别字, 錯別字, 检查一下",
    ),
    ("task", 1.0, "改得, 介绍, 介紹, 方案, 文章, 说明, 說明, 发言稿, 感谢的话"),
    (
        "info",
        1.0,
        "起因, 原因是, 历史, 歷史, 好处, 好處, 症状, 推荐, 推薦, 建议, 建議, 注意什么, 注意哪些, 要注意, 技巧, "
        "有什么影响, 有害吗, 哪个更, 哪個更, 接壤, 怎么办, 怎麼辦, 意思, 多久, 原理是什么, 是谁, 是誰",
    ),
    ("info", 0.5, "解释, 解釋"),
    (
        "question",
        0.25,
        "是什么, 是什麼, 什么是, 什麼是, 怎么做, 怎麼做, 哪些, 哪里, 哪裡, 为什么, 為什麼, 如何, 怎么, 区分, 區分, "
        "区别, 區別",
    ),
    ("lay", 1.5, "通俗, 简单地说, 小学生, 外行, 非技术, 老人, 小朋友, 跟我奶奶, 给我奶奶, 跟奶奶, 跟爷爷"),
    (
        "topic",
        0.4,
        "健康, 减肥, 旅游, 旅遊, 景点, 景點, 签证, 簽證, 理财, 理財, 工资, 房贷, 租房, 买房, 孩子, 医生, 吃什么, "
        "感冒, 药, 跑步, 锻炼, 健身, 天气, 天氣, 高铁, 老板, 领导, 合同, 客户, 快递, 通货膨胀, 菜, 英语, 口语, "
        "外语, 股票, 基金, 保险, 劳保, 健保, 勞保, 二手车, 咖啡, 鸡蛋, 行星, 国家, 國家, 历史上, 法律, 大学生, "
        "老师, 老師, 新闻, 新聞, 统计局, 消费, 经济, 政策",
    ),
)


class Cue(NamedTuple):
    group: str
    weight: float


def _table(lexicon: Iterable[tuple[str, float, str]]) -> dict[str, Cue]:
    table: dict[str, Cue] = {}
    for group, weight, phrases in lexicon:
        for phrase in phrases.split(", "):
            table.setdefault(phrase, Cue(group, weight))  # the first listing of a phrase is the deliberate one
    return table


_Trie = dict[str, "_Trie"]


def _trie_pattern(phrases: Iterable[str]) -> str:
    """One regex alternative per phrase makes the engine retry every phrase at every position; a trie-shaped
    pattern shares prefixes, so a position costs about one comparison per character matched.
    """
    trie: _Trie = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}  # a phrase ends here

    def render(node: _Trie) -> str:
        branches = [
            (r"\s+" if ch == " " else re.escape(ch)) + render(child) for ch, child in sorted(node.items()) if ch
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # Where a phrase ends but longer ones continue, the continuation is optional; greedy, so longest wins.
        return "(?:" + body + ")?" if "" in node else body

    return render(trie)


ASCII_CUES: Final[Mapping[str, Cue]] = MappingProxyType(_table(_ASCII_LEXICON))
CJK_CUES: Final[Mapping[str, Cue]] = MappingProxyType(_table(_CJK_LEXICON))

# Word boundaries by hand, because CJK characters count as \w and \b would not split "用python写". A trailing
# version number still names the thing: "vue3", "python3.11", "html5".
ASCII_RE: Final = re.compile(r"(?<![a-z0-9_])(" + _trie_pattern(ASCII_CUES) + r")(?:\d+(?:\.\d+)*)?(?![a-z0-9_+#'])")


def _split_by_first_char(phrases: Iterable[str], parts: int) -> tuple[re.Pattern[str], ...]:
    """The engine tries each top-level branch in turn wherever a phrase could start, which for ~550 first
    characters costs far more than scanning the text a few times; several smaller tries are ~3x faster.
    """
    phrases = list(phrases)
    firsts = sorted({phrase[0] for phrase in phrases})
    return tuple(
        re.compile(_trie_pattern(p for p in phrases if p[0] in chunk))
        for chunk in (set(firsts[i::parts]) for i in range(parts))
    )


CJK_RES: Final = _split_by_first_char(CJK_CUES, 6)

# ---------------------------------------------------------------------------------------------------------
# The shape of the text. Each pattern starts with a literal or a single character class, which lets the
# engine skip ahead cheaply, and runs only when a substring it needs occurs; word boundaries are checked on
# the few matches instead of at every position.
# ---------------------------------------------------------------------------------------------------------
FENCES: Final = ("```", "~~~")
# Each of these occurs almost only in stack traces / crash output.
STACK_TRACE_MARKS: Final = (
    "Traceback (most recent call last)",
    "Exception in thread",
    "\npanic: ",
    "goroutine ",
    "error[E",
    "Segmentation fault",
    "core dumped",
    "\nCaused by: ",
    '\n  File "',
    "--> src/",
)
# Java/JS/C# frames: "at com.acme.Foo.bar(Foo.java:42)", "at render (app.js:10:5)".
FRAME_RE: Final = re.compile(r"at [\w$.<>/]+ ?\([^()\n]*:\d+(?::\d+)?\)")
ERROR_PHRASES: Final = (
    "error: ",
    "connection refused",
    "command not found",
    "permission denied",
    "no such file or directory",
    "failed to start",
    "exit code ",
    "exit status ",
    "bad gateway",
    "internal server error",
    "gateway timeout",
    "service unavailable",
    "outofmemory",
    "out of memory",
    "segmentation fault",
)
ERROR_HINTS: Final = ("error", "exception", "refused", "denied", "not found", "failed", "exit ", "memory", "gateway")
ERROR_NAME_RE: Final = re.compile(r"(?:Error|Exception)\b")
ERROR_MARKS: Final = ("ERR_", "OOM", "OutOfMemory")
LOG_HINTS: Final = ("INFO", "WARN", "ERROR", "DEBUG", "FATAL", "TRACE")
LOG_LINE_RE: Final = re.compile(
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[^\n]*?\b(?:INFO|WARN|WARNING|ERROR|DEBUG|FATAL|TRACE)\b"
)
UNIX_PATH_RE: Final = re.compile(r"/[\w.-]+/[\w.-]+")
WINDOWS_PATH_RE: Final = re.compile(r"[A-Za-z]:\\[\w\\.-]+")
EXTENSION_RE: Final = re.compile(
    r"\.(?:py|js|mjs|ts|tsx|jsx|java|go|rs|rb|php|cpp|hpp|cs|kt|swift|scala|sh|bash|ps1|bat|cmd|exe|dll|msi|"
    r"apk|jar|dylib|sln|csproj|sql|yaml|yml|toml|ini|cfg|conf|json|xml|gradle|ipynb|tf|vue|lock|env|pem|txt|"
    r"log|csv|html|css)\b"
)
INLINE_CODE_RE: Final = re.compile(r"`[^`\n]{1,80}`")
OPERATOR_RE: Final = re.compile(r"!==|===|->|=>|::|&&|\|\||\(\)|!=|\+=")
# The identifier ending at / starting from a position (ASCII only: Chinese text has no spaces around them).
IDENT_TAIL_RE: Final = re.compile(r"[\w.$]+\Z", re.ASCII)
IDENT_LEADING_JUNK: Final = "([{<\"'`=,;:!?*&|+-/"
SNAKE_CASE_RE: Final = re.compile(r"_[a-z0-9]+")
METHOD_CALL_RE: Final = re.compile(r"\.[A-Za-z_]\w*\(")
NUMBER_LITERAL_RE: Final = re.compile(r"0[xb][0-9a-fA-F]+\b")
# A shell prompt starting a line, or a command followed by a flag ("ls -la", "git log --oneline").
SHELL_PROMPTS: Final = ("\n$ ", "\n# ", "\n> ", "\nPS ", "\n% ")
SHELL_PROMPT_RE: Final = re.compile(
    r"(?:\$|#|>|%|PS [A-Z]:\\[^>\n]*>)\s+(?:sudo|cd|ls|git|docker|kubectl|pip3?|npm|npx|yarn|python3?|curl|"
    r"make|cargo|go|apt(?:-get)?|brew|cat|grep|export|echo|chmod|ssh|systemctl|terraform|helm|java|node)\b"
)
SHELL_FLAG_RE: Final = re.compile(r" --?[a-zA-Z]")
SHELL_COMMANDS: Final = frozenset(
    {"ls", "grep", "find", "curl", "wget", "docker", "kubectl", "git", "pip", "pip3", "npm", "npx", "yarn", "tar"}
    | {"chmod", "chown", "ssh", "scp", "awk", "sed", "ps", "kill", "netstat", "lsof", "set", "du", "df", "rm", "cp"}
    | {"mv", "python", "python3", "node", "java", "go", "cargo", "make", "brew", "apt", "apt-get", "systemctl"}
    | {"journalctl", "terraform", "helm", "gcc", "clang", "rsync", "tail", "head"}
)
SQL_HINTS: Final = ("select", "insert into", "delete from", "create table", "alter table", " join ", "group by")
SQL_RE: Final = re.compile(
    r"SELECT\b[^;]{1,300}?\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|"
    r"CREATE\s+(?:TABLE|INDEX|VIEW)\b|ALTER\s+TABLE\b|(?:LEFT|INNER|RIGHT|OUTER)\s+JOIN\b|GROUP\s+BY\b|"
    r"select\s+(?:\*|count\(|distinct\b|[\w.]+\s*,)[^;]{0,300}?\bfrom\b"
)
# Prose lines rarely end in a brace or semicolon or start with `def`/`const`; one such line can be chance,
# several in one message are pasted source or config.
CODE_LINE_MARKS: Final = (
    ";\n",
    "{\n",
    "}\n",
    "):\n",
    "\ndef ",
    "\nclass ",
    "\nimport ",
    "\nreturn",
    "\nconst ",
    "\nfunction",
    "\n#include",
    "\npublic ",
    "\nFROM ",
    " = ",
)
# Without any of these characters a text cannot hold a trace, path, identifier or code line.
SYMBOLIC_RE: Final = re.compile(r"[`{}\[\]();=<>_\\|&*#$@^~/:\n]")
INDENT_MARKS: Final = ("\n    ", "\n\t")
SYMBOLS: Final = "{}[]();=<>_\\|&*#$@^~"
DROP_SYMBOLS: Final = str.maketrans("", "", SYMBOLS)
# Without a digit, operator, bracket or math sign there is no equation to find ("f(x)" and "O(n)" have "(").
MATH_GATE_RE: Final = re.compile(r"[\d^√∑∫≤≥≠∞π²³\[(]")
MATH_SYMBOLS: Final = ("√", "∑", "∫", "≤", "≥", "≠", "∞", "π", "²", "³", "f(x)", "sqrt(", "log(")
# "3x^2", "2x + y = 5", "12 * 7 =", "[[2,1],[1,2]]", "O(n log n)".
POWER_RE: Final = re.compile(r"\^\s*\d")
EQUATION_RE: Final = re.compile(r"\d\s*[a-z]\s*[-+*/=]\s*[\d(a-z]|\d\s*[-+*/^]\s*\d+\s*=")
MATRIX_RE: Final = re.compile(r"\[\[[-\d.,\s\[\]]+\]\]")
BIG_O_RE: Final = re.compile(r"O\([^)]{1,12}\)")
# Arithmetic word problems: several quantities and a request to work something out.
DIGITS: Final = "0123456789"
# Chinese text: the ASCII word list only needs the runs of ASCII between the Chinese characters.
ASCII_RUN_RE: Final = re.compile(r"[\x00-\x7f]+")
NUMBER_RE: Final = re.compile(r"\d+(?:[.,]\d+)?")
WORD_PROBLEM_RE: Final = re.compile(
    r"how (?:many|much|long|far|fast|old)\b|when (?:does|will|do)\b|what time\b|what is the (?:probability|"
    r"chance|sum|area|value|average|total)\b|calculate|compute|solve|find the\b"
)
CJK_WORD_PROBLEM_MARKS: Final = ("多少", "各有", "求", "计算", "計算", "算一下", "算出", "几个", "几只", "几支", "几次")
EMOJI_RE: Final = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
# Domain names suggest a technical question ("what happens when I type google.com"), weakly: shops have them.
DOMAIN_RE: Final = re.compile(r"\.(?:com|org|net|io|dev|app|cn|co)\b")

# ---------------------------------------------------------------------------------------------------------
# What the user asks for. English puts the artefact after the verb within a few words ("write a short
# poem"); the gap may not cross "about"/"for"/"that", so "write a story about code" asks for a story.
# ---------------------------------------------------------------------------------------------------------
_GAP = r"(?:\s+(?!about\b|on\b|for\b|that\b|which\b|where\b)[\w'+#.-]+){0,4}?\s+"
# Each verb is found with str.find and the object pattern is matched right after it: one alternation of
# all the verbs would be retried at every position of the text.
CODE_VERBS: Final = (
    "write",
    "writing",
    "implement",
    "create",
    "build",
    "generate",
    "code",
    "make",
    "give me",
    "show me",
    "fix",
    "debug",
    "refactor",
    "optimize",
    "optimise",
    "convert",
    "port",
    "set up",
    "setup",
    "design",
)
CODE_OBJECT_RE: Final = re.compile(
    _GAP + r"(?:function|method|class|script|program|regex|regular expression|query|sql|one-liner|oneliner|"
    r"unit tests?|tests?|api|endpoint|cli|dockerfile|workflow|algorithm|module|component|snippet|code|bash|"
    r"makefile|interface|lru cache|cache|parser|decorator|hook|rate limiter|server|bot|macro|formula|"
    r"cron expression|expression|plugin|extension|scraper|crawler|website|web app|webpage|landing page|app|"
    r"microservice|pipeline)s?\b"
)
CODE_PHRASE_RE: Final = re.compile(
    r"(?:regex|regular expression|sql|query|one-liner|function|command|script|formula|macro) (?:for|to|that)\b|"
    r"how (?:would|do|can|should|could) (?:you|i|we) (?:build|implement|automate|code|program|architect)\b"
)
CREATIVE_VERBS: Final = (
    "write",
    "compose",
    "tell",
    "create",
    "make up",
    "invent",
    "draft",
    "pen",
    "sing",
    "give me",
    "come up with",
    "craft",
    "generate",
    "continue",
    "describe",
    "rewrite",
    "retell",
    "adapt",
    "reimagine",
)
CREATIVE_OBJECT_RE: Final = re.compile(
    _GAP + r"(?:poem|poetry|story|stories|tale|haiku|limerick|sonnet|lyrics|song|rap|verse|joke|riddle|slogan|"
    r"tagline|fairy tale|fable|novel|screenplay|dialogue|monologue|love letter|toast|scene|chapter|fiction|"
    r"fanfic|ballad|ode|pun|rhyme|tweet|caption|eulogy|vows|plot|backstory)s?\b"
)
CREATIVE_REQUEST_HINTS: Final = ("once upon", "continue", "let's", "let us")
CREATIVE_PHRASE_RE: Final = re.compile(
    r"once upon a time|continue the story|let(?:'s| us) (?:role-?play|pretend|play a game)"
)
# Chinese puts the head noun last ("写一个关于程序员的故事"), so allow a modifier before it, but not across a
# clause break.
CJK_CREATIVE_REQUEST_HINTS: Final = ("续写", "續寫", "编", "編")
CJK_CREATIVE_REQUEST_RE: Final = re.compile(
    r"(?:写|寫|编|編|作|创作|創作|讲|講|说个|說個|来|來|想|出|生成|续写|續寫|接着写)[^，。！？,.!?\n]{0,16}?"
    r"(?:诗|詩|故事|小说|小說|歌词|歌詞|笑话|笑話|段子|广告语|廣告語|口号|口號|标语|標語|绝句|絕句|对联|對聯|情话|"
    r"情話|开场白|開場白|剧本|劇本|童话|童話|散文|台词|臺詞|文案|祝福语|祝福語|谜语|謎語|寓言|描写|描寫|短句|金句|"
    r"歌|rap|场面|場面|场景|場景|传说|傳說|誓词|誓詞|儿歌|兒歌|超级英雄|告白|表白|情书|情書|祝福|贺词|賀詞|开头|"
    r"開頭|开场|結尾|结尾|朋友圈)|(?:续写|續寫)[：:]|编(?:一个|个|一段|一首|一篇|段|首|篇|一句|句)(?!程序|代码|程式)|"
    r"(?:一|两|兩|三|四|五|六|七|八|九|十|几|幾)首(?!先|页|頁|次|都)"
)
CJK_CODE_REQUEST_RE: Final = re.compile(
    r"(?:写|寫|实现|實現|编写|編寫|生成|优化|優化|修复|修復|重构|重構|改|调试|調試)(?:一|个|個|段|下|这|這|条|條|份|些|"
    r"下面|以下|的|\s){0,4}(?:[A-Za-z+#]+\s*)?(?:函数|函數|脚本|腳本|程序|程式|正则|正則|SQL|sql|代码|代碼|类|類|接口|"
    r"算法|单元测试|單元測試|单测|组件|組件|方法|命令|查询|查詢|爬虫|爬蟲|API|api|bug|Bug|BUG)|"
    r"用\s*[A-Za-z][A-Za-z+#]*\s*(?:写|寫|实现|實現|做|来|來)|(?:怎么|怎麼|如何|怎样|怎樣)(?:用代码|用程序)?"
    r"(?:实现|實現|自动化|自動化)"
)
# A bare request to write. Unless its object is a known general document (task cues) or code (code
# requests), people who ask for writing without naming the kind mostly want prose for its own sake.
WRITE_RE: Final = re.compile(
    r"\W*(?:(?:can|could|would|will) you |please |pls |ok(?:ay)?,? (?:now )?|now |hey,? )*(?:write|compose|pen|"
    r"make up|tell me|continue)\b"
)
CJK_WRITE_HINTS: Final = ("写", "寫", "编", "編", "描")
# The caller checks that the verb opens a clause (after an optional 帮我/请).
CJK_WRITE_RE: Final = re.compile(r"(?:写|寫|描写|描寫|编|編)(?![代程脚腳邮郵周週报報简簡])")
CJK_WRITE_PREFIXES: Final = ("帮我", "幫我", "给我", "給我", "请", "請")
CLAUSE_BREAKS: Final = "，。！？,.!?：:；; \n"
# Conversation openers and addressing the assistant as a character; both only count at the very start.
GREETING_RE: Final = re.compile(r"\W*(?:hi+|hello|hey+|hiya|yo|howdy|good (?:morning|afternoon|evening))\b")
ROLEPLAY_RE: Final = re.compile(
    r"\s*(?:you(?:'re| are) (?!right|wrong|correct|welcome)|act as (?:a|an|my) (?!translator|interpreter|editor|"
    r"linux|terminal|sql|python|javascript|api)|let's (?:role-?play|pretend)|你是(?!不是|谁|誰|否|怎么|怎麼|如何))"
)
SYSTEM_PERSONA_RE: Final = re.compile(r"\b(?:companion|friend|character|persona|storyteller|poet|novelist)\b")
